"""Provider errors sorted and waited for: :class:`RouteFailed` (a route gave up), which errors are rate
limits (:func:`is_rate_limit`) or permanent (:func:`is_permanent`), the provider's ``Retry-After``
(:func:`retry_after_s`, :func:`parse_retry_after`) and exponential back-off with jitter
(:func:`backoff_s`)."""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from datetime import UTC

import litellm

from inference.llm.config import LlmConfigError, RouterSettings


class RouteFailed(Exception):
    """A route gave up (retries spent, or an error that retrying cannot fix)."""


def _status_code(exc: BaseException) -> int | None:
    code = getattr(exc, "status_code", None)
    return code if isinstance(code, int) else None


def is_rate_limit(exc: BaseException) -> bool:
    return isinstance(exc, litellm.RateLimitError) or _status_code(exc) == 429


def is_permanent(exc: BaseException) -> bool:
    """Errors that the same route will answer the same way: config, auth, bad request, not found..."""
    if isinstance(exc, LlmConfigError | ImportError):
        return True
    if isinstance(exc, litellm.Timeout | litellm.APIConnectionError | asyncio.TimeoutError):
        return False
    code = _status_code(exc)
    return code is not None and 400 <= code < 500 and code not in (408, 409, 425, 429)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP date (None if unreadable)."""
    if value is None or not str(value).strip():
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def retry_after_s(exc: BaseException) -> float | None:
    """The provider's Retry-After (``retry-after-ms`` or ``retry-after``) carried by a litellm exception.

    litellm keeps the provider's headers on ``exc.litellm_response_headers``; ``exc.response.headers`` and
    ``exc.headers`` are looked at too.
    """
    response = getattr(exc, "response", None)
    for headers in (
        getattr(exc, "litellm_response_headers", None),
        getattr(response, "headers", None),
        getattr(exc, "headers", None),
    ):
        if not headers:
            continue
        lowered = {str(k).lower(): str(v) for k, v in dict(headers).items()}
        if "retry-after-ms" in lowered:
            try:
                return max(0.0, float(lowered["retry-after-ms"]) / 1000)
            except ValueError:
                pass
        seconds = parse_retry_after(lowered.get("retry-after"))
        if seconds is not None:
            return seconds
    return None


def backoff_s(failures: int, settings: RouterSettings, rng: random.Random) -> float:
    """Exponential back-off with jitter: base * 2^(n-1), capped, times a random factor in [0.5, 1]."""
    base = min(settings.max_backoff_s, settings.retry_backoff_s * 2 ** max(0, failures - 1))
    return base * (0.5 + rng.random() / 2)


def _short(exc: BaseException) -> str:
    text = str(exc).replace("\n", " ").strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text[:300]}"
