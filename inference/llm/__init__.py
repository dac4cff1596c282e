"""The LLM calling layer: routes from ``config/llm.yaml``, and an async client that classifies many calls.

:func:`load_llm_config` reads the router file (litellm's Router layout: ``model_list`` of aliases with
``litellm_params`` and ``model_info``, ``router_settings`` with retries, timeouts and fallbacks, plus a
``budget`` section) into an :class:`LlmConfig`; a wrong file fails with the file and the field named.

:func:`classify_many` sends :func:`inference.llm_schema.build_messages` of each (already redacted)
transcript through ``litellm.acompletion`` with at most ``budget.max_concurrency`` calls in flight. Every
HTTP attempt first takes its estimated tokens (prompt + ``max_tokens``) and one request from a shared
:class:`inference.budget.RateLimiter`; the real ``usage`` is charged back afterwards. A 429 is never a
failure: everyone pauses for its ``Retry-After`` (plus jitter) and the call is made again. Timeouts, 5xx and
connection errors are retried with exponential back-off and jitter up to ``num_retries``, then the route's
fallbacks are tried in order; client errors (400, 401, 404...) go to the next fallback at once. The answer is
parsed leniently (code fences and chatter around the first ``{...}`` are ignored) and validated with
:class:`Classification`; an invalid answer gets exactly one repair retry (``repair_messages``) on the route
that gave it. Each :class:`CallResult` is handed to ``on_result`` as soon as it is known.

The package, one module per job: ``config`` (the router file: LlmConfig and its parts, LlmConfigError,
load_llm_config), ``results`` (CallRequest, CallResult, RunStats), ``parsing`` (the answer's JSON),
``retries`` (RouteFailed, rate limits, Retry-After, back-off), ``routes`` (one request's arguments, the
``local/`` provider, tokens and cost) and ``client`` (classify_many). litellm's offline switch is set here,
before any of them imports litellm.
"""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm  # noqa: E402  (after the offline switch)

litellm.suppress_debug_info = True

from inference.llm.client import OnResult, Progress, classify_many, limiter_for  # noqa: E402
from inference.llm.config import (  # noqa: E402
    CONFIG_ENV,
    DEFAULT_CONFIG_PATH,
    ENV_PREFIX,
    Budget,
    LitellmParams,
    LlmConfig,
    LlmConfigError,
    ModelInfo,
    ModelRoute,
    RouterSettings,
    load_llm_config,
    parse_llm_config,
)
from inference.llm.parsing import FENCE, extract_json_object, parse_reply  # noqa: E402
from inference.llm.results import CallRequest, CallResult, RunStats, Status  # noqa: E402
from inference.llm.retries import (  # noqa: E402
    RouteFailed,
    backoff_s,
    is_permanent,
    is_rate_limit,
    parse_retry_after,
    retry_after_s,
)
from inference.llm.routes import completion_kwargs, ensure_provider, estimate_tokens  # noqa: E402

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG_PATH",
    "ENV_PREFIX",
    "FENCE",
    "Budget",
    "CallRequest",
    "CallResult",
    "LitellmParams",
    "LlmConfig",
    "LlmConfigError",
    "ModelInfo",
    "ModelRoute",
    "OnResult",
    "Progress",
    "RouteFailed",
    "RouterSettings",
    "RunStats",
    "Status",
    "backoff_s",
    "classify_many",
    "completion_kwargs",
    "ensure_provider",
    "estimate_tokens",
    "extract_json_object",
    "is_permanent",
    "is_rate_limit",
    "limiter_for",
    "load_llm_config",
    "parse_llm_config",
    "parse_reply",
    "parse_retry_after",
    "retry_after_s",
]
