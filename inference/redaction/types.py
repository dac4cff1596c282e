"""The public types: ``REDACTOR_VERSION`` (it keys stored redactions), ``ENTITY_TYPES``, ``Entity``,
``Redaction``, the token pattern, and the helpers that carry tokens across the texts of one call
(``token_map``, ``mapping_of``) and put values back into results (``rehydrate``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from inference.text import REDACTION_TOKEN

REDACTOR_VERSION = "pii-1"
ENTITY_TYPES = (
    "PERSON",
    "PHONE",
    "EMAIL",
    "ORDER_ID",
    "ADDRESS",
    "NATIONAL_ID",
    "IBAN",
    "DATE_OF_BIRTH",
)

TOKEN_RE = REDACTION_TOKEN


@dataclass(frozen=True)
class Entity:
    """One redacted span: ``start``/``end`` index the original text, ``value`` is the text found there."""

    token: str
    entity_type: str
    value: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Redaction:
    """A redacted text and the entities replaced in it (in order of appearance)."""

    text: str
    entities: tuple[Entity, ...]

    @property
    def mapping(self) -> dict[str, str]:
        """token → value (the first value seen for that token), what ``rehydrate`` needs."""
        out: dict[str, str] = {}
        for entity in self.entities:
            out.setdefault(entity.token, entity.value)
        return out


def token_map(redactions: Iterable[Redaction], known: Mapping[str, str] | None = None) -> dict[str, str]:
    """value → token over several redactions of one call, to pass as ``known`` to the next ``redact``."""
    out = dict(known or {})
    for redaction in redactions:
        for entity in redaction.entities:
            out.setdefault(entity.value, entity.token)
    return out


def mapping_of(redactions: Iterable[Redaction]) -> dict[str, str]:
    """token → value over several redactions (the vault rows of one call)."""
    out: dict[str, str] = {}
    for redaction in redactions:
        for token, value in redaction.mapping.items():
            out.setdefault(token, value)
    return out


def rehydrate(obj: Any, mapping: Mapping[str, str]) -> Any:
    """Replace tokens by their values in every string of a JSON-like object (dict values, lists, tuples).

    Unknown tokens stay as they are; dict keys and non-string leaves are returned unchanged.
    """
    if isinstance(obj, str):
        if "[" not in obj:
            return obj
        return TOKEN_RE.sub(lambda m: mapping.get(m.group(0), m.group(0)), obj)
    if isinstance(obj, dict):
        return {key: rehydrate(value, mapping) for key, value in obj.items()}
    if isinstance(obj, list):
        return [rehydrate(value, mapping) for value in obj]
    if isinstance(obj, tuple):
        return tuple(rehydrate(value, mapping) for value in obj)
    return obj
