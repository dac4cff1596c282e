"""What goes in and out of :func:`inference.llm.classify_many`: a :class:`CallRequest` (a call's key and
redacted transcript), its :class:`CallResult` (messages sent, raw and parsed answer, status, tokens,
cost, latency, attempts, the route that answered) and the run's totals, :class:`RunStats`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from inference.llm_schema import Classification

Status = Literal["ok", "invalid", "failed"]


@dataclass(frozen=True)
class CallRequest:
    """One call to classify: its key (stored with the answer) and its redacted transcript."""

    key: str
    transcript: str


@dataclass
class CallResult:
    """What happened to one request.

    ``request_messages`` is exactly what the last request sent (for a repaired answer: the conversation
    with the first, invalid reply in it); ``raw_response`` is the text of the last reply. Tokens, cost,
    latency (seconds spent waiting on the provider, not on the limiter or back-off) and attempts (HTTP
    calls, 429s included) add up over every attempt, fallbacks and the repair included.
    """

    key: str
    model: str
    prompt_version: str
    request_messages: list[dict[str, str]]
    raw_response: str | None
    parsed: Classification | None
    error: str | None
    status: Status
    tokens_in: int = 0
    tokens_out: int = 0
    latency_s: float = 0.0
    cost_usd: float = 0.0
    attempts: int = 0
    rate_limited: int = 0
    route: str = ""  # the alias that answered (a fallback's when one did)


@dataclass
class RunStats:
    """Totals of one :func:`classify_many` run."""

    done: int = 0
    ok: int = 0
    invalid: int = 0
    failed: int = 0
    attempts: int = 0
    rate_limited: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    elapsed_s: float = 0.0
    limiter_wait_s: float = 0.0

    def add(self, result: CallResult) -> None:
        self.done += 1
        setattr(self, result.status, getattr(self, result.status) + 1)
        self.attempts += result.attempts
        self.rate_limited += result.rate_limited
        self.tokens_in += result.tokens_in
        self.tokens_out += result.tokens_out
        self.cost_usd += result.cost_usd
