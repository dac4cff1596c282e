"""Lenient reading of a model's answer: the first JSON object in it, code fences and chatter ignored
(:func:`extract_json_object`), validated as a :class:`inference.llm_schema.Classification`
(:func:`parse_reply`: the classification, or what is wrong with the answer)."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from inference.llm_schema import Classification

FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)


def extract_json_object(text: str) -> dict[str, Any] | str:
    """The first JSON object in ``text`` (code fences and text around it ignored), or why there is none."""
    fenced = FENCE.search(text)
    candidates = [fenced.group(1), text] if fenced else [text]
    decoder = json.JSONDecoder()
    first_error = "no JSON object in the answer"
    for candidate in candidates:
        starts = [m.start() for m in re.finditer(r"\{", candidate)][:20]
        for start in starts:
            try:
                value, _ = decoder.raw_decode(candidate, start)
            except json.JSONDecodeError as exc:
                if first_error == "no JSON object in the answer":
                    first_error = f"invalid JSON: {exc.msg} at character {exc.pos}"
                continue
            if isinstance(value, dict):
                return value
    return first_error


def parse_reply(text: str | None) -> tuple[Classification | None, str | None]:
    """(classification, None) or (None, what is wrong) for one answer."""
    if not text or not text.strip():
        return None, "empty answer"
    data = extract_json_object(text)
    if isinstance(data, str):
        return None, data
    try:
        return Classification.model_validate(data), None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'object'}: {e['msg']}" for e in exc.errors())
        return None, f"schema: {problems}"
