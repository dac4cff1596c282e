"""The classification request: a versioned prompt, the JSON the model must return, and how to read it.

This is the contract between the pipeline, any LLM route (Bedrock, Groq, Ollama, OpenAI through litellm)
and the offline ``local/`` provider: every route receives :func:`build_messages` and must answer with one
JSON object that :class:`Classification` accepts. Bump :data:`PROMPT_VERSION` whenever the wording or the
schema changes: it is part of the key under which answers are stored, so a new version asks again.
"""

from __future__ import annotations

import json
from enum import IntEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PROMPT_VERSION = "call-classification-v2"
TRANSCRIPT_OPEN = "<transcript>"
TRANSCRIPT_CLOSE = "</transcript>"


class CallType(IntEnum):
    """DESIGN.md's call types."""

    NO_CONVERSATION = 0  # no answer, voicemail, unreachable
    REFUSES = 1  # customer refuses the installation
    RESCHEDULES = 2  # customer reschedules
    ABSENT = 3  # customer absent
    OTHER = 4  # installation goes ahead / anything else


class Classification(BaseModel):
    """What every route must return for one call."""

    model_config = ConfigDict(extra="ignore")

    call_type: int = Field(
        ge=0, le=4, description="0 no conversation, 1 refuses, 2 reschedules, 3 absent, 4 other"
    )
    behavior: int = Field(ge=0, le=1, description="technician: 1 courteous and professional, 0 not")
    sentiment: Literal["negative", "neutral", "positive"]
    summary: str = Field(max_length=400, description="one sentence")
    action_items: list[str] = Field(default_factory=list, max_length=5)
    # Not asked of LLM routes (absent from RESPONSE_SCHEMA and the prompt): the offline classifier's
    # calibrated probability of its call type. The verdict trusts a call type below the configured
    # threshold (``classification_min_confidence``) as little as an invalid answer; absent, only the audit
    # decides trust.
    call_type_confidence: float | None = Field(default=None, ge=0, le=1)


RESPONSE_SCHEMA: dict[str, Any] = {
    "name": "call_classification",
    "strict": True,
    "schema": {
        "type": "object",
        "additionalProperties": False,
        "required": ["call_type", "behavior", "sentiment", "summary", "action_items"],
        "properties": {
            "call_type": {"type": "integer", "enum": [0, 1, 2, 3, 4]},
            "behavior": {"type": "integer", "enum": [0, 1]},
            "sentiment": {"type": "string", "enum": ["negative", "neutral", "positive"]},
            "summary": {"type": "string"},
            "action_items": {"type": "array", "items": {"type": "string"}, "maxItems": 5},
        },
    },
}

SYSTEM_PROMPT = """You audit phone calls made by telecom field technicians to customers whose installation
order or repair ticket is about to be suspended. The transcript is in French (sometimes English), produced
by speech recognition, so it may be lower-case, unpunctuated and contain recognition errors. Personal data
has been replaced by tokens such as [PERSON_1] or [PHONE_1]; keep those tokens as they are and never invent
names, numbers, dates or identifiers that are not in the transcript.

Classify the call:
- call_type: 0 = no conversation with the customer (no answer, voicemail, operator message, unreachable);
  1 = the customer refuses the installation; 2 = the customer reschedules the appointment;
  3 = the customer is absent (away, not at home); 4 = other (the installation goes ahead, anything else).
- behavior: 1 if the technician is courteous and professional, 0 if not.
- sentiment: the customer's sentiment: "negative", "neutral" or "positive".
- summary: one sentence in French.
- action_items: up to 5 short follow-up actions in French (may be empty).

Answer with one JSON object and nothing else, exactly these keys:
{"call_type": 0-4, "behavior": 0 or 1, "sentiment": "...", "summary": "...", "action_items": ["..."]}"""


def build_messages(transcript: str) -> list[dict[str, str]]:
    """The chat messages for one (already redacted) transcript."""
    user = f"Transcript of the call:\n{TRANSCRIPT_OPEN}\n{transcript.strip()}\n{TRANSCRIPT_CLOSE}"
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


TRUNCATION_MARK = "\n[…]\n"


def fit_transcript(transcript: str, max_chars: int) -> tuple[str, bool]:
    """``transcript`` cut to at most ``max_chars`` characters for one request, and whether it was cut. A
    cut keeps the first two thirds and the last third of the budget around a ``[…]`` line: how a call
    starts (who, why) and how it ends (what was agreed) both reach the model."""
    text = transcript.strip()
    if len(text) <= max_chars:
        return text, False
    room = max(0, max_chars - len(TRUNCATION_MARK))
    head = room * 2 // 3
    tail = room - head
    return text[:head].rstrip() + TRUNCATION_MARK + (text[-tail:].lstrip() if tail else ""), True


def extract_transcript(messages: list[dict[str, Any]]) -> str:
    """The transcript inside the last user message built by :func:`build_messages` ('' if none)."""
    for message in reversed(messages):
        content = message.get("content") or ""
        if message.get("role") == "user" and TRANSCRIPT_OPEN in content:
            inner = content.split(TRANSCRIPT_OPEN, 1)[1]
            return inner.split(TRANSCRIPT_CLOSE, 1)[0].strip()
    return ""


def repair_messages(messages: list[dict[str, str]], bad_reply: str, error: str) -> list[dict[str, str]]:
    """The one repair retry: the conversation so far plus the invalid reply and what was wrong with it."""
    fix = (
        f"Your answer was not valid ({error}). Reply again with only the JSON object, "
        f"keys: {json.dumps(list(RESPONSE_SCHEMA['schema']['required']))}."
    )
    return [*messages, {"role": "assistant", "content": bad_reply}, {"role": "user", "content": fix}]
