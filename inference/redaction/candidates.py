"""Candidate spans: ``Rules`` (every recogniser of one language as plain functions of the text, no
Presidio, no spaCy run) over a ``_Lexicon`` (stop words and spaCy's vocabulary), returning ``_Cand`` spans
that may overlap; ``inference.redaction.resolution`` picks among them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from inference.redaction.patterns import (
    _ADDRESS_EN_RE,
    _ADDRESS_KEYWORD_RE,
    _ADDRESS_RE,
    _ADDRESS_UNIT_RE,
    _AFTER_TITLE_RE,
    _AFTER_TRIGGER_RE,
    _ALNUM_CHAR_RE,
    _ALNUM_STEP_RE,
    _CIN_CONTEXT_RE,
    _CIN_STRICT_RE,
    _CONTRACTION_RE,
    _DOB_RE,
    _EMAIL_RE,
    _FROM_AFTER_RE,
    _IBAN_CONTEXT_RE,
    _IBAN_START_RE,
    _NAME_TOKEN_RE,
    _NEXT_NAME_RE,
    _NIR_CONTEXT_RE,
    _NIR_RE,
    _ORDER_CONTEXT_RE,
    _ORDER_GENERIC_RE,
    _ORDER_PREFIXED_RE,
    _PERSON_TRIGGERS,
    _PHONE_RES,
    _POSTCODE_TAIL_RE,
    _RIB_RE,
    _ROLE_AFTER_RE,
    _ROMAN_RE,
    _TAIL_WORD_RE,
    _UNIT_ONLY_NUMERO,
    _VERB_FORM_RE,
)
from inference.redaction.spoken import spoken_to_written
from inference.redaction.wordlists import (
    _AMBIGUOUS_NAMES,
    _DENY,
    _FREE_NAMES,
    _IBAN_LENGTHS,
    _LEADING_PARTICLES,
    _NAMES,
    _PARTICLES,
    _PLACES,
    _STREET_PARTICLES,
    _TITLES,
)
from inference.text import fold_aligned, strip_accents_aligned


@dataclass(frozen=True)
class _Cand:
    entity_type: str
    start: int
    end: int
    score: float


class _Lexicon:
    """Word lists of one language: stop words and the spaCy lemmatizer's vocabulary."""

    def __init__(self, language: str, vocabulary: Iterable[str]):
        from spacy.lang.en.stop_words import STOP_WORDS as EN_STOP
        from spacy.lang.fr.stop_words import STOP_WORDS as FR_STOP

        self.language = language
        self.stop = frozenset(fold_aligned(w) for w in FR_STOP | EN_STOP)
        self.words = frozenset(fold_aligned(w) for w in vocabulary if w.isalpha() or "-" in w or "'" in w)

    def is_word(self, key: str) -> bool:
        """Is ``key`` (folded, lower-case) a known common word of the language (inflections included)?"""
        if key in self.words:
            return True
        if self.language != "en":
            return False
        for suffix, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", "")):
            if key.endswith(suffix) and key[: -len(suffix)] + repl in self.words:
                return True
        return key.endswith("ing") and key[:-3] + "e" in self.words

    def is_function_word(self, key: str) -> bool:
        return key in self.stop or key in _DENY or key in _TITLES


class Rules:
    """Every recogniser of one language, as plain functions of the text (no Presidio, no spaCy run)."""

    def __init__(self, lexicon: _Lexicon, keep: Iterable[str] = (), others: Sequence[_Lexicon] = ()):
        self.lexicon = lexicon
        self.lexicons = (lexicon, *others)
        self.language = lexicon.language
        self.keep = frozenset(fold_aligned(k).strip() for k in keep if k.strip())
        self.keep_words = frozenset(fold_aligned(w) for k in keep for w in k.split())

    # --------------------------------------------------------------- entry point

    def find(self, text: str, spacy_people: Iterable[tuple[int, int]] = ()) -> list[_Cand]:
        """All candidates in ``text`` (original offsets), overlapping ones included."""
        shadow = spoken_to_written(text, self.language)
        norm = shadow.text
        found = self.structured(norm) + self.people(norm)
        out = []
        for cand in found:
            start, end = shadow.to_original(cand.start, cand.end)
            out.append(_Cand(cand.entity_type, start, end, cand.score))
        out += [c for c in (self.spacy_person(text, s, e) for s, e in spacy_people) if c]
        return [c for c in out if fold_aligned(text[c.start : c.end]).strip() not in self.keep]

    def structured(self, norm: str) -> list[_Cand]:
        folded = strip_accents_aligned(norm)
        return (
            self.phones(folded)
            + self.emails(folded)
            + self.order_ids(folded)
            + self.national_ids(norm, folded)
            + self.ibans(norm, folded)
            + self.dates_of_birth(folded)
            + self.addresses(norm, folded)
        )

    # --------------------------------------------------------------- numbers and ids

    @staticmethod
    def phones(folded: str) -> list[_Cand]:
        return [
            _Cand("PHONE", m.start(), m.end(), score)
            for regex, score in _PHONE_RES
            for m in regex.finditer(folded)
        ]

    @staticmethod
    def emails(folded: str) -> list[_Cand]:
        return [_Cand("EMAIL", m.start(), m.end(), 1.0) for m in _EMAIL_RE.finditer(folded)]

    @staticmethod
    def order_ids(folded: str) -> list[_Cand]:
        out = [_Cand("ORDER_ID", m.start(), m.end(), 0.95) for m in _ORDER_PREFIXED_RE.finditer(folded)]
        out += [_Cand("ORDER_ID", m.start(), m.end(), 0.7) for m in _ORDER_GENERIC_RE.finditer(folded)]
        out += [_Cand("ORDER_ID", m.start("v"), m.end("v"), 0.8) for m in _ORDER_CONTEXT_RE.finditer(folded)]
        return out

    @staticmethod
    def national_ids(norm: str, folded: str) -> list[_Cand]:
        out = [_Cand("NATIONAL_ID", m.start(), m.end(), 0.75) for m in _CIN_STRICT_RE.finditer(folded)]
        out += [_Cand("NATIONAL_ID", m.start("v"), m.end("v"), 0.9) for m in _CIN_CONTEXT_RE.finditer(folded)]
        for m in _NIR_RE.finditer(folded):
            digits = re.sub(r"\D", "", m.group(0))
            valid = len(digits) == 15 and 97 - int(digits[:13]) % 97 == int(digits[13:])
            context = _NIR_CONTEXT_RE.search(folded, max(0, m.start() - 80), m.start()) is not None
            if valid or context:
                out.append(_Cand("NATIONAL_ID", m.start(), m.end(), 0.95 if valid else 0.85))
        return out

    @staticmethod
    def ibans(norm: str, folded: str) -> list[_Cand]:
        out = [_Cand("IBAN", m.start(), m.end(), 0.85) for m in _RIB_RE.finditer(folded)]
        for m in _IBAN_START_RE.finditer(folded):
            country = (m.group(1) + m.group(2)).upper()
            written_upper = norm[m.start(1)].isupper() and norm[m.start(2)].isupper()
            length = _IBAN_LENGTHS.get(country)
            if length is None or (country not in ("FR", "MA") and not written_upper):
                continue
            end, chars = _walk_alnum(folded, m.end(), length - 4)
            if end is None:
                continue
            code = country + m.group(3) + m.group(4) + chars.upper()
            context = _IBAN_CONTEXT_RE.search(folded, max(0, m.start() - 60), m.start()) is not None
            if _iban_valid(code):
                out.append(_Cand("IBAN", m.start(), end, 0.95))
            elif country in ("FR", "MA") and (written_upper or context):
                out.append(_Cand("IBAN", m.start(), end, 0.7))
        return out

    @staticmethod
    def dates_of_birth(folded: str) -> list[_Cand]:
        return [_Cand("DATE_OF_BIRTH", m.start("v"), m.end("v"), 0.9) for m in _DOB_RE.finditer(folded)]

    # --------------------------------------------------------------- addresses

    def addresses(self, norm: str, folded: str) -> list[_Cand]:
        out: list[_Cand] = []
        for m in _ADDRESS_RE.finditer(folded):
            end = self._address_tail(norm, m.end(), weak=m.group("weak") is not None and not m.group("num"))
            if end is None:
                continue
            tail = _POSTCODE_TAIL_RE.match(folded, end)
            if tail and not self._ends_in_function_word(folded, tail.end()):
                end = tail.end()
            out.append(_Cand("ADDRESS", m.start(), end, 0.9 if m.group("num") else 0.86))
        out += [_Cand("ADDRESS", m.start(), m.end(), 0.8) for m in _ADDRESS_UNIT_RE.finditer(folded)]
        out += [_Cand("ADDRESS", m.start(), m.end(), 0.86) for m in _ADDRESS_EN_RE.finditer(folded)]
        return [c for c in out if not _UNIT_ONLY_NUMERO.fullmatch(folded, c.start, c.end)]

    def _ends_in_function_word(self, folded: str, end: int) -> bool:
        words = folded[:end].split()
        return bool(words) and self.lexicon.is_function_word(words[-1].lower())

    def _address_tail(self, norm: str, pos: int, weak: bool) -> int | None:
        """End of the street name after an address keyword (None when there is no name)."""
        end, content, cursor = None, 0, pos
        while content < 5:
            m = _TAIL_WORD_RE.match(norm, cursor, min(len(norm), pos + 120))
            if m is None:
                break
            cursor = m.end()
            word = m.group(1)
            key = fold_aligned(word)
            if _ADDRESS_KEYWORD_RE.fullmatch(key) and content:
                break
            if key in _PARTICLES or key in _STREET_PARTICLES:
                continue
            if word.isdigit() and len(word) > 4:
                break
            is_number = word.isdigit() or (_ROMAN_RE.fullmatch(word) is not None and content > 0)
            if not is_number and (self.lexicon.is_function_word(key) or len(key) < 2 and not word.isupper()):
                break
            if weak and content == 0 and not (word[0].isupper() or is_number):
                return None
            content += 1
            end = m.end()
        return end

    # --------------------------------------------------------------- people

    def people(self, norm: str) -> list[_Cand]:
        folded = strip_accents_aligned(norm)
        out: list[_Cand] = []
        for regex, strength, score in _PERSON_TRIGGERS:
            for m in regex.finditer(folded):
                span = self.name_after(norm, m.end(), strength)
                if span:
                    out.append(_Cand("PERSON", span[0], span[1], score))
        for m in _NAME_TOKEN_RE.finditer(folded):
            word = m.group(0)
            if word.lower() in _FREE_NAMES and word.lower() not in self.keep_words:
                score = 0.6  # a first name from the gazetteer, even lower-case
            elif word[0].isupper() and self._unknown_capitalised(word):
                score = 0.55  # a capitalised word no word list knows
            elif self._unknown_before_role(word, folded, m.end()):
                score = 0.55  # "samirl technicien": a word no list knows, introduced by its role (ASR text)
            else:
                continue
            out.append(_Cand("PERSON", m.start(), self._name_rest(norm, m.end()), score))
        return out

    def _unknown_before_role(self, word: str, folded: str, end: int) -> bool:
        """A word no word list knows, right before a role word ("x technicien"): a misheard name."""
        key = fold_aligned(word)
        if len(key) < 3 or not _ROLE_AFTER_RE.match(folded, end) or not self._plain_word(word):
            return False
        if _VERB_FORM_RE.search(word) or key in _AMBIGUOUS_NAMES or key in _PLACES:
            return False
        return not any(lex.is_word(key) for lex in self.lexicons)

    def _unknown_capitalised(self, word: str) -> bool:
        """A capitalised word no word list knows ("Taoufik", "Rhys"): in written text, most likely a name."""
        if not word[0].isupper() or len(word) < 3 or (word.isupper() and len(word) <= 4):
            return False
        key = fold_aligned(word)
        if key in self.keep_words or key in _AMBIGUOUS_NAMES or key in _PLACES or _CONTRACTION_RE.search(key):
            return False
        parts = [p for p in re.split(r"[-']", key) if len(p) >= 2]
        return bool(parts) and not any(
            self.lexicon.is_function_word(p) or p in _PLACES or any(lex.is_word(p) for lex in self.lexicons)
            for p in parts
        )

    def name_after(self, norm: str, pos: int, strength: str) -> tuple[int, int] | None:
        """The name (1–3 words, particles allowed) right after a title or trigger at ``pos``."""
        m = (_AFTER_TITLE_RE if strength == "title" else _AFTER_TRIGGER_RE).match(norm, pos)
        if m is None:
            return None
        if strength == "title" and self.language == "en":
            strength = "strong"  # "mister/miss/mrs X": English common-word lists hold too many names
        first = _NAME_TOKEN_RE.match(norm, m.end())
        if first is None:
            return None
        word = first.group(0)
        if strength in ("title", "strong") and fold_aligned(word) in _LEADING_PARTICLES:
            nxt = _NEXT_NAME_RE.match(norm, first.end())  # "madame le goff", "monsieur el idrissi"
            if nxt and self.name_word_ok(nxt.group(1), "title"):
                return first.start(), self._name_rest(norm, nxt.end())
        ok = self.name_word_ok(word, strength) or (
            strength == "weak"
            and self._plain_word(word)
            and not _VERB_FORM_RE.search(word)
            and self._introduces(norm, first.end())
        )
        return (first.start(), self._name_rest(norm, first.end())) if ok else None

    def _introduces(self, norm: str, end: int) -> bool:
        """Is the word before ``end`` introduced as someone ("X technicien", "X de <company>")?"""
        folded = strip_accents_aligned(norm[end : end + 60])
        if _ROLE_AFTER_RE.match(folded):
            return True
        m = _FROM_AFTER_RE.match(folded)
        return bool(m and fold_aligned(m.group(1)) in self.keep_words)

    def _plain_word(self, word: str) -> bool:
        key = fold_aligned(word)
        if len(key) < 2 or _CONTRACTION_RE.search(key) or key in self.keep_words:
            return False
        return not self.lexicon.is_function_word(key)

    def _name_rest(self, norm: str, end: int) -> int:
        """Extend a name over following surname words and particles (at most two more words)."""
        words = 0
        pos = end
        while words < 2:
            m = _NEXT_NAME_RE.match(norm, pos)
            if m is None:
                break
            key = fold_aligned(m.group(1))
            if key in _PARTICLES or (key in _LEADING_PARTICLES and m.group(1)[0].isupper()):
                nxt = _NEXT_NAME_RE.match(norm, m.end())
                if nxt is None or not self.name_word_ok(nxt.group(1), "surname"):
                    break
                pos = end = nxt.end()
            elif self.name_word_ok(m.group(1), "surname"):
                pos = end = m.end()
            else:
                break
            words += 1
        return end

    def name_word_ok(self, word: str, strength: str) -> bool:
        """Could ``word`` be (part of) a person's name here? strength: strong, title, weak or surname."""
        key = fold_aligned(word)
        if len(key) < 2 or self.lexicon.is_function_word(key) or key in self.keep_words:
            return False
        if _CONTRACTION_RE.search(key):
            return False
        if key in _NAMES or strength == "strong":
            return True
        if word[0].isupper() and not (word.isupper() and len(word) <= 4):
            return True
        return not self.lexicon.is_word(key)

    def spacy_person(self, text: str, start: int, end: int) -> _Cand | None:
        """A spaCy PERSON span, trimmed of greetings/titles and dropped when nothing name-like remains."""
        words = [m for m in _NAME_TOKEN_RE.finditer(text, start, end)]
        if any(w.group(0)[0].isupper() for w in words):  # written text: a name's words are capitalised
            words = _longest_capitalised_run(words)
        while words and not self._spacy_word_ok(words[0].group(0)):
            words.pop(0)
        while words and not self._spacy_word_ok(words[-1].group(0)):
            words.pop()
        if not words or any(ch.isdigit() or ch == "@" for ch in text[start:end]):
            return None
        if len(words) == 1:
            word = words[0].group(0)
            key = fold_aligned(word)
            initial = (
                not text[: words[0].start()].strip() or text[: words[0].start()].rstrip()[-1] in ".!?:;\n"
            )
            if key not in _NAMES and self.lexicon.is_word(key) and (initial or word.islower()):
                return None
        return _Cand("PERSON", words[0].start(), words[-1].end(), 0.7)

    def _spacy_word_ok(self, word: str) -> bool:
        key = fold_aligned(word)
        if self.lexicon.is_function_word(key) or key in self.keep_words or len(key) < 2:
            return False
        return not (word.isupper() and len(word) <= 4 and key not in _NAMES)


def _longest_capitalised_run(words: list[re.Match[str]]) -> list[re.Match[str]]:
    """Split at lower-case words that are not name particles; keep the longest capitalised run."""
    runs: list[list[re.Match[str]]] = [[]]
    for word in words:
        text = word.group(0)
        if text[0].isupper() or (fold_aligned(text) in _PARTICLES and runs[-1]):
            runs[-1].append(word)
        else:
            runs.append([])
    runs = [r[: max(i for i, w in enumerate(r) if w.group(0)[0].isupper()) + 1] for r in runs if r]
    return max(runs, key=len) if runs else []


def _walk_alnum(folded: str, pos: int, count: int) -> tuple[int | None, str]:
    """Collect ``count`` letters/digits from ``pos`` allowing single spaces/hyphens between them."""
    chars: list[str] = []
    end = pos
    while len(chars) < count:
        m = _ALNUM_STEP_RE.match(folded, end)
        if m is None:
            return None, ""
        chars.append(m.group(1))
        end = m.end()
    if _ALNUM_CHAR_RE.match(folded, end):
        return None, ""
    return end, "".join(chars)


def _iban_valid(code: str) -> bool:
    if not code.isalnum():
        return False
    rearranged = code[4:] + code[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1
