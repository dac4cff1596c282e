"""Spoken forms written out: ``spoken_to_written`` rewrites number words ("zéro six douze trente quatre" →
"0 6 12 34") and spoken e-mails ("karim point benali arobase gmail point com" → "karim.benali@gmail.com")
into a shadow text (``_Shadow``) whose spans map back to the original, so one set of patterns covers both
forms. The number words themselves are ``inference.text.NUMBER_WORDS``."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from inference.text import NUMBER_WORDS, strip_accents_aligned

_VALUE_KINDS = frozenset({"zero", "unit", "teen", "tens", "hundred", "thousand"})
_LONE_SKIP = frozenset({"un", "une", "one", "oh"})


@dataclass(frozen=True)
class _Tok:
    text: str
    key: str
    start: int
    end: int


_GAP_RUN = re.compile(r"[ \t\-]{0,3}")
_ALNUM_RE = re.compile(r"[^\W_]+")


def _tokens(folded: str) -> list[_Tok]:
    return [_Tok(m.group(0), m.group(0).lower(), m.start(), m.end()) for m in _ALNUM_RE.finditer(folded)]


@dataclass(frozen=True)
class _Shadow:
    """The text with spoken forms written out; ``to_original`` maps a span back to the original text."""

    text: str
    starts: tuple[int, ...] = ()
    pieces: tuple[tuple[int, int, int, int, bool], ...] = ()  # norm start/end, orig start/end, exact

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        if not self.pieces:
            return start, end
        a = self.pieces[bisect_right(self.starts, start) - 1]
        b = self.pieces[bisect_right(self.starts, max(end - 1, start)) - 1]
        orig_start = a[2] + (start - a[0]) if a[4] else a[2]
        orig_end = b[2] + (end - b[0]) if b[4] else b[3]
        return orig_start, orig_end


def _shadow(text: str, replacements: list[tuple[int, int, str]]) -> _Shadow:
    if not replacements:
        return _Shadow(text)
    parts: list[str] = []
    pieces: list[tuple[int, int, int, int, bool]] = []
    pos = norm = 0
    for start, end, new in sorted(replacements):
        if start > pos:
            parts.append(text[pos:start])
            pieces.append((norm, norm + start - pos, pos, start, True))
            norm += start - pos
        parts.append(new)
        pieces.append((norm, norm + len(new), start, end, False))
        norm += len(new)
        pos = end
    parts.append(text[pos:])
    pieces.append((norm, norm + len(text) - pos + 1, pos, len(text) + 1, True))
    return _Shadow("".join(parts), tuple(p[0] for p in pieces), tuple(pieces))


def _joined(text: str, left: _Tok, right: _Tok) -> bool:
    return _GAP_RUN.fullmatch(text, left.end, right.start) is not None


def _kind(tokens: Sequence[_Tok], i: int, lex: Mapping[str, tuple[str, int]]) -> tuple[str, int]:
    if i >= len(tokens):
        return ("", 0)
    key = tokens[i].key
    if key.isdigit():
        return ("digits", 0)
    return lex.get(key, ("", 0))


def _number_runs(text: str, tokens: Sequence[_Tok], lex) -> list[tuple[int, int]]:
    """Maximal runs of number words (and digits next to them) that are worth writing out.

    ``tokens`` may hold only the number-like words: words in between make the gap test fail.
    """
    runs: list[tuple[int, int]] = []
    i, n = 0, len(tokens)
    while i < n:
        kind = _kind(tokens, i, lex)[0]
        if kind not in _VALUE_KINDS | {"digits", "mult", "plus"}:
            i += 1
            continue
        j = i
        while j + 1 < n and _joined(text, tokens[j], tokens[j + 1]):
            nxt = _kind(tokens, j + 1, lex)[0]
            if nxt in _VALUE_KINDS | {"digits", "mult"}:
                j += 1
            elif nxt == "and" and _kind(tokens, j, lex)[0] in ("tens", "hundred"):
                if _kind(tokens, j + 2, lex)[0] not in _VALUE_KINDS:
                    break
                j += 1
            else:
                break
        while j > i and _kind(tokens, j, lex)[0] in ("and", "mult", "plus"):
            j -= 1
        while i < j and tokens[i].key in ("un", "une", "one", "a") and _kind(tokens, i + 1, lex)[0] == "zero":
            i += 1  # "c'est un zéro six ..." — the article is not part of the number
        run = tokens[i : j + 1]
        has_words = any(_kind(tokens, k, lex)[0] in _VALUE_KINDS for k in range(i, j + 1))
        if has_words and not (len(run) == 1 and run[0].key in _LONE_SKIP):
            runs.append((i, j))
        i = j + 1
    return runs


def _teen(keys: Sequence[str], i: int, lex) -> tuple[int, int]:
    value = lex[keys[i]][1]
    if (
        value == 10
        and i + 1 < len(keys)
        and lex.get(keys[i + 1], ("", 0))
        in (
            ("unit", 7),
            ("unit", 8),
            ("unit", 9),
        )
    ):
        return 10 + lex[keys[i + 1]][1], i + 2
    return value, i + 1


def _kind_at(keys: Sequence[str], i: int, lex) -> tuple[str, int]:
    return lex.get(keys[i], ("", 0)) if i < len(keys) else ("", 0)


def _below_100(keys: Sequence[str], i: int, lex) -> tuple[int, int]:
    kind, value = _kind_at(keys, i, lex)
    if kind == "unit" and value == 4 and _kind_at(keys, i + 1, lex) == ("tens", 20):
        nxt_kind, nxt = _kind_at(keys, i + 2, lex)
        if nxt_kind == "unit":
            return 80 + nxt, i + 3
        if nxt_kind == "teen":
            teen, j = _teen(keys, i + 2, lex)
            return 80 + teen, j
        return 80, i + 2
    if kind in ("zero", "unit"):
        return value, i + 1
    if kind == "teen":
        return _teen(keys, i, lex)
    if kind != "tens":
        return 0, i + 1
    nxt_kind, nxt = _kind_at(keys, i + 1, lex)
    if nxt_kind == "and":
        after = _kind_at(keys, i + 2, lex)
        if after == ("unit", 1) or after == ("teen", 11):
            return value + after[1], i + 3
        return value, i + 1
    if value == 60 and nxt_kind == "teen":
        teen, j = _teen(keys, i + 1, lex)
        return 60 + teen, j
    if nxt_kind == "unit":
        return value + nxt, i + 2
    return value, i + 1


def _below_1000(keys: Sequence[str], i: int, lex) -> tuple[int, int]:
    kind, value = _kind_at(keys, i, lex)
    if kind == "unit" and _kind_at(keys, i + 1, lex)[0] == "hundred":
        hundreds, i = value, i + 2
    elif kind == "hundred":
        hundreds, i = 1, i + 1
    else:
        return _below_100(keys, i, lex)
    if _kind_at(keys, i, lex)[0] == "and" and _kind_at(keys, i + 1, lex)[0] in ("unit", "teen", "tens"):
        i += 1
    if _kind_at(keys, i, lex)[0] in ("unit", "teen", "tens"):
        rest, i = _below_100(keys, i, lex)
        return hundreds * 100 + rest, i
    return hundreds * 100, i


def _number(keys: Sequence[str], i: int, lex) -> tuple[int, int]:
    """One spoken number (0 … 999,999) starting at ``keys[i]``; returns (value, next index)."""
    if _kind_at(keys, i, lex)[0] == "thousand":
        value = 1
    else:
        value, i = _below_1000(keys, i, lex)
        if value == 0 or _kind_at(keys, i, lex)[0] != "thousand":
            return value, i
    i += 1
    if _kind_at(keys, i, lex)[0] in ("unit", "teen", "tens", "hundred"):
        rest, i = _below_1000(keys, i, lex)
        return value * 1000 + rest, i
    return value * 1000, i


def _spell_out(keys: Sequence[str], lex) -> str:
    """Digits for a run of number words: 'zero six douze trente quatre' → '0 6 12 34'."""
    chunks: list[str] = []
    i = 0
    while i < len(keys):
        kind, value = _kind_at(keys, i, lex)
        if keys[i].isdigit():
            chunks.append(keys[i])
            i += 1
        elif kind == "plus":
            chunks.append("+")
            i += 1
        elif kind == "mult" and _kind_at(keys, i + 1, lex)[0] in ("zero", "unit"):
            chunks.append(str(_kind_at(keys, i + 1, lex)[1]) * value)
            i += 2
        elif kind in _VALUE_KINDS:
            number, i = _number(keys, i, lex)
            chunks.append(str(number))
        else:
            i += 1
    return " ".join(chunks).replace("+ ", "+")


_AT_WORDS = frozenset({"arobase", "arobas", "arrobase", "arobaz", "arrobas"})
_SEP_WORDS = {"point": ".", "dot": ".", "tiret": "-", "dash": "-", "hyphen": "-", "underscore": "_"}
_AT_HINT_RE = re.compile(r"\b(?:arr?obase?|arr?obas|arobaz|at)\b", re.I)
_NUMBER_TOKEN_RE = {
    lang: re.compile(
        r"(?<![^\W_])(?:\d+|" + "|".join(sorted(lex, key=len, reverse=True)) + r")(?![^\W_])", re.I
    )
    for lang, lex in NUMBER_WORDS.items()
}
_TLDS = frozenset({
    "com", "fr", "ma", "net", "org", "io", "co", "uk", "eu", "be", "de", "es", "ca", "us", "info", "biz",
    "me", "edu", "gov",
})  # fmt: skip


def _email_item(text: str, tokens: Sequence[_Tok], i: int) -> tuple[str, str, int]:
    """Classify token i for spoken emails: ('sep', char, width) or ('word', text, 1)."""
    key = tokens[i].key
    if key == "tiret" and i + 1 < len(tokens) and tokens[i + 1].key == "bas":
        return ("sep", "_", 2)
    if key in _SEP_WORDS:
        return ("sep", _SEP_WORDS[key], 1)
    return ("word", tokens[i].text, 1)


def _spoken_email(text: str, tokens: Sequence[_Tok], at: int) -> tuple[int, int, str] | None:
    """'karim point benali arobase gmail point com' around tokens[at] → (first, last, written email)."""
    # domain: word (sep word)+
    j = at + 1
    if j >= len(tokens) or _email_item(text, tokens, j)[0] != "word":
        return None
    domain = [tokens[j].text]
    while j + 1 < len(tokens):
        gap = text[tokens[j].end : tokens[j + 1].start]
        if gap in (".", "-") and _email_item(text, tokens, j + 1)[0] == "word":
            domain += [gap, tokens[j + 1].text]
            j += 1
            continue
        if not gap.isspace() or j + 2 >= len(tokens):
            break
        kind, char, width = _email_item(text, tokens, j + 1)
        if kind != "sep" or char == "_" or _email_item(text, tokens, j + 1 + width)[0] != "word":
            break
        domain += [char, tokens[j + 1 + width].text]
        j += 1 + width
    if "." not in domain:
        return None
    # local part: word ((sep | literal sep) word)*
    k = at - 1
    if k < 0 or _email_item(text, tokens, k)[0] != "word" or tokens[k].key in _SEP_WORDS:
        return None
    local = [tokens[k].text]
    while k - 1 >= 0:
        gap = text[tokens[k - 1].end : tokens[k].start]
        if gap in (".", "-", "_"):
            local = [tokens[k - 1].text, gap, *local]
            k -= 1
            continue
        sep_at = k - 1
        width = 2 if sep_at >= 1 and tokens[sep_at].key == "bas" and tokens[sep_at - 1].key == "tiret" else 1
        first = sep_at - width + 1
        if first - 1 < 0 or not gap.isspace():
            break
        kind, char, _ = _email_item(text, tokens, first)
        if kind != "sep" or tokens[first - 1].key in _SEP_WORDS:
            break
        local = [tokens[first - 1].text, char, *local]
        k = first - 1
    return k, j, "".join(local).lower() + "@" + "".join(domain).lower()


def _email_replacements(text: str, tokens: Sequence[_Tok], lang: str) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    for i, tok in enumerate(tokens):
        spoken_at = tok.key in _AT_WORDS or (lang == "en" and tok.key == "at")
        if not spoken_at or not text[tok.start - 1 : tok.start].isspace():
            continue
        found = _spoken_email(text, tokens, i)
        if found is None:
            continue
        first, last, email = found
        if tok.key == "at" and email.rsplit(".", 1)[-1] not in _TLDS:
            continue
        out.append((tokens[first].start, tokens[last].end, email))
    return out


def spoken_to_written(text: str, language: str = "fr") -> _Shadow:
    """Write spoken numbers and emails out (a shadow text whose spans map back to ``text``)."""
    lex = NUMBER_WORDS.get(language, NUMBER_WORDS["fr"])
    folded = strip_accents_aligned(text)
    replacements = []
    if _AT_HINT_RE.search(folded):
        replacements = _email_replacements(folded, _tokens(folded), language)
    taken = [(start, end) for start, end, _ in replacements]
    numbers = [
        _Tok(m.group(0), m.group(0).lower(), m.start(), m.end())
        for m in _NUMBER_TOKEN_RE[language if language in _NUMBER_TOKEN_RE else "fr"].finditer(folded)
        if not any(start <= m.start() < end for start, end in taken)
    ]
    for i, j in _number_runs(folded, numbers, lex):
        keys = [t.key for t in numbers[i : j + 1]]
        replacements.append((numbers[i].start, numbers[j].end, _spell_out(keys, lex)))
    return _shadow(text, replacements)
