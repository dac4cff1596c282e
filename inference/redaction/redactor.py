"""``Redactor``: one Presidio analyzer (spaCy NER + the call rules) per process, turning candidates into
per-call tokens (``[PERSON_1]``, ``[PHONE_2]`` ...) shared across the texts of one call."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from inference.redaction.candidates import Rules, _Cand, _Lexicon
from inference.redaction.canonical_values import canonical
from inference.redaction.presidio import SPACY_MODELS, _presidio_classes
from inference.redaction.resolution import _free, _occurrences, resolve
from inference.redaction.types import ENTITY_TYPES, TOKEN_RE, Entity, Redaction, token_map
from inference.redaction.wordlists import _PARTICLES
from inference.text import fold_aligned, strip_accents_aligned


class Redactor:
    """One Presidio analyzer (spaCy NER + the call rules) for the given languages; build once per process.

    ``keep``: phrases never redacted (the company's own name, e.g. "Atlas Télécom").
    ``country_code``: the default country for phone numbers written without one (token identity only).
    ``ner_on_lowercase``: also run spaCy NER on all-lower-case (ASR) text; off by default, since on such
    text it adds nothing the rules miss in the benchmark and costs over half the time.
    """

    def __init__(
        self,
        languages: Sequence[str] = ("fr", "en"),
        keep: Iterable[str] = ("Atlas Télécom",),
        country_code: str = "212",
        spacy_models: Mapping[str, str] | None = None,
        ner_on_lowercase: bool = False,
    ):
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry

        engine_cls, recognizer_cls, ner_configuration = _presidio_classes()
        models = {**SPACY_MODELS, **(spacy_models or {})}
        self.languages = tuple(languages)
        self.country_code = country_code
        self.ner_on_lowercase = ner_on_lowercase
        engine = engine_cls(
            models=[{"lang_code": lang, "model_name": models[lang]} for lang in self.languages],
            ner_model_configuration=ner_configuration(),
        )
        engine.load()
        keep = tuple(keep)
        lexicons = {lang: _Lexicon(lang, engine.vocabularies[lang]) for lang in self.languages}
        self.rules = {
            lang: Rules(lexicons[lang], keep, [lex for other, lex in lexicons.items() if other != lang])
            for lang in self.languages
        }
        registry = RecognizerRegistry(
            recognizers=[recognizer_cls(self.rules[lang]) for lang in self.languages],
            supported_languages=list(self.languages),
        )
        self.analyzer = AnalyzerEngine(
            registry=registry, nlp_engine=engine, supported_languages=list(self.languages)
        )

    def redact(self, text: str, language: str = "fr", known: Mapping[str, str] | None = None) -> Redaction:
        """Replace PII in ``text`` by tokens; ``known`` (value → token): tokens already given in the call."""
        if language not in self.rules:
            raise ValueError(f"language {language!r} not loaded (have {self.languages})")
        if not text or not text.strip():
            return Redaction(text, ())
        artifacts = None
        if not self.ner_on_lowercase and not any(ch.isupper() for ch in text):
            artifacts = self.analyzer.nlp_engine.bare_artifacts(text, language)
        results = self.analyzer.analyze(
            text=text, language=language, entities=list(ENTITY_TYPES), nlp_artifacts=artifacts
        )
        cands = [_Cand(r.entity_type, r.start, r.end, r.score) for r in results]
        cands += self._known_candidates(text, known or {})
        tokens = [(m.start(), m.end()) for m in TOKEN_RE.finditer(text)]  # already redacted: leave alone
        cands = [c for c in cands if all(c.end <= s or c.start >= e for s, e in tokens)]
        accepted = resolve(text, cands)
        accepted = self._propagate_people(text, accepted, self.rules[language])
        return self._tokenise(text, accepted, known or {}, language)

    def redact_all(
        self, texts: Sequence[str], language: str = "fr", known: Mapping[str, str] | None = None
    ) -> list[Redaction]:
        """Redact several texts of one call so that they share tokens (e.g. agent, customer, dialogue)."""
        out: list[Redaction] = []
        for text in texts:
            out.append(self.redact(text, language, token_map(out, known)))
        return out

    # --------------------------------------------------------------- helpers

    @staticmethod
    def _known_candidates(text: str, known: Mapping[str, str]) -> list[_Cand]:
        out = []
        for value, token in known.items():
            m = TOKEN_RE.fullmatch(token)
            if m is None or m.group(1) not in ("PERSON", "EMAIL", "ADDRESS") or len(value.strip()) < 2:
                continue
            out += [_Cand(m.group(1), s, e, 0.92) for s, e in _occurrences(text, value)]
        return out

    @staticmethod
    def _propagate_people(text: str, accepted: list[_Cand], rules: Rules) -> list[_Cand]:
        """Redact other mentions of names found once (whole name, then each distinctive part)."""
        names = {text[c.start : c.end] for c in accepted if c.entity_type == "PERSON"}
        parts = {
            w
            for name in names
            for w in name.split()
            if len(w) >= 3 and fold_aligned(w) not in _PARTICLES and rules.name_word_ok(w, "weak")
        }
        extra: list[_Cand] = []
        for value in sorted(names, key=len, reverse=True) + sorted(parts, key=len, reverse=True):
            for start, end in _occurrences(text, value):
                if _free(accepted, start, end) and _free(extra, start, end):
                    extra.append(_Cand("PERSON", start, end, 0.65))
        for part in parts:  # spelled out: "I D R I S S I", "b-e-n-a-l-i"
            spelled = r"[ \t.\-]+".join(re.escape(ch) for ch in fold_aligned(part) if ch.isalnum())
            for m in re.finditer(rf"(?<![^\W_]){spelled}(?![^\W_])", strip_accents_aligned(text), re.I):
                if len(m.group(0)) > len(part) and _free(accepted, *m.span()) and _free(extra, *m.span()):
                    extra.append(_Cand("PERSON", m.start(), m.end(), 0.65))
        return sorted(accepted + extra, key=lambda c: c.start)

    def _tokenise(
        self, text: str, accepted: list[_Cand], known: Mapping[str, str], language: str
    ) -> Redaction:
        registry, counters = self._seed(known, language)
        entities: list[Entity] = []
        parts: list[str] = []
        pos = 0
        for cand in accepted:
            value = text[cand.start : cand.end]
            key = (cand.entity_type, canonical(cand.entity_type, value, self.country_code, language))
            token = registry.get(key)
            if token is None:
                counters[cand.entity_type] = counters.get(cand.entity_type, 0) + 1
                token = registry[key] = f"[{cand.entity_type}_{counters[cand.entity_type]}]"
            entities.append(
                Entity(token, cand.entity_type, value, cand.start, cand.end, round(cand.score, 3))
            )
            parts += [text[pos : cand.start], token]
            pos = cand.end
        parts.append(text[pos:])
        return Redaction("".join(parts), tuple(entities))

    def _seed(
        self, known: Mapping[str, str], language: str
    ) -> tuple[dict[tuple[str, str], str], dict[str, int]]:
        registry: dict[tuple[str, str], str] = {}
        counters: dict[str, int] = {}
        for value, token in known.items():
            m = TOKEN_RE.fullmatch(token)
            if m is None:
                raise ValueError(f"not a redaction token: {token!r}")
            etype, number = m.group(1), int(m.group(2))
            registry.setdefault((etype, canonical(etype, value, self.country_code, language)), token)
            counters[etype] = max(counters.get(etype, 0), number)
        return registry, counters
