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
"""

from __future__ import annotations

import asyncio
import email.utils
import inspect
import json
import os
import random
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Sized
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any, Literal

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm  # noqa: E402  (after the offline switch)
import yaml  # noqa: E402
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator  # noqa: E402

from inference.budget import RateLimiter  # noqa: E402
from inference.llm_schema import (  # noqa: E402
    PROMPT_VERSION,
    RESPONSE_SCHEMA,
    Classification,
    build_messages,
    repair_messages,
)

litellm.suppress_debug_info = True

CONFIG_ENV = "CALLAUDIT_LLM_CONFIG"
DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent.parent / "config" / "llm.yaml"
ENV_PREFIX = "os.environ/"
Status = Literal["ok", "invalid", "failed"]


# ---------------------------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------------------------
class LlmConfigError(ValueError):
    """The router file is missing or wrong; the message names the file and the field."""


class LitellmParams(BaseModel):
    """What is passed to ``litellm.acompletion`` (any other key, e.g. ``aws_region_name``, passes through).

    String values written ``os.environ/NAME`` are read from the environment when the route is called.
    """

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, description="litellm model string, e.g. openai/gpt-4o-mini")
    api_base: str | None = None
    api_key: str | None = None
    timeout: float | None = Field(default=None, gt=0, description="seconds; default router_settings.timeout")
    max_tokens: int = Field(default=512, gt=0)
    temperature: float | None = Field(default=0.0, ge=0)


class ModelInfo(BaseModel):
    """callaudit's facts about a route (litellm's ``model_info`` is free-form metadata)."""

    model_config = ConfigDict(extra="allow")

    response_format: Literal["json_schema", "json_object", "none"] = Field(
        default="json_object",
        description="json_schema: RESPONSE_SCHEMA as structured output; json_object: JSON mode; none: prompt",
    )
    input_cost_per_token: float | None = Field(default=None, ge=0)
    output_cost_per_token: float | None = Field(default=None, ge=0)


class ModelRoute(BaseModel):
    """One alias of ``model_list``."""

    model_config = ConfigDict(extra="forbid")

    model_name: str = Field(min_length=1, description="the alias the pipeline asks for")
    litellm_params: LitellmParams
    model_info: ModelInfo = Field(default_factory=ModelInfo)


class RouterSettings(BaseModel):
    """Retries, timeouts, back-off and fallbacks."""

    model_config = ConfigDict(extra="forbid")

    num_retries: int = Field(default=2, ge=0, description="retries of a transient error on one route")
    timeout: float = Field(default=60.0, gt=0, description="seconds per call unless the route sets one")
    fallbacks: list[dict[str, list[str]]] = Field(default_factory=list, description="[{alias: [alias, ...]}]")
    retry_backoff_s: float = Field(default=1.0, gt=0, description="first back-off after a transient error")
    max_backoff_s: float = Field(default=30.0, gt=0)
    rate_limit_jitter_s: float = Field(default=0.5, ge=0, description="added at random to a Retry-After")
    max_rate_limit_wait_s: float | None = Field(
        default=None, gt=0, description="give a route up after 429s for this long (None: never)"
    )


class Budget(BaseModel):
    """The shared limits of one run."""

    model_config = ConfigDict(extra="forbid")

    tpm: int | None = Field(default=None, gt=0, description="tokens per minute (None: unlimited)")
    rpm: int | None = Field(default=None, gt=0, description="requests per minute (None: unlimited)")
    max_concurrency: int = Field(default=4, ge=1, description="calls in flight at once")
    burst_s: float = Field(default=60.0, gt=0, description="bucket capacity, in seconds of refill")


class LlmConfig(BaseModel):
    """The router file."""

    model_config = ConfigDict(extra="forbid")

    default_model: str = "classifier"
    model_list: list[ModelRoute] = Field(min_length=1)
    router_settings: RouterSettings = Field(default_factory=RouterSettings)
    budget: Budget = Field(default_factory=Budget)
    source: str = Field(default="<memory>", exclude=True, description="where it was read from")

    @model_validator(mode="after")
    def _check_aliases(self) -> LlmConfig:
        names = [route.model_name for route in self.model_list]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"model_list: model_name {duplicates} appears more than once")
        known = set(names)
        if self.default_model not in known:
            raise ValueError(f"default_model: {self.default_model!r} is not a model_name ({sorted(known)})")
        for i, entry in enumerate(self.router_settings.fallbacks):
            for alias, targets in entry.items():
                for name in (alias, *targets):
                    if name not in known:
                        raise ValueError(
                            f"router_settings.fallbacks[{i}]: {name!r} is not a model_name ({sorted(known)})"
                        )
        return self

    def route(self, alias: str) -> ModelRoute:
        """The route of an alias (LlmConfigError when unknown)."""
        for route in self.model_list:
            if route.model_name == alias:
                return route
        known = [r.model_name for r in self.model_list]
        raise LlmConfigError(f"{self.source}: no model_name {alias!r} in model_list ({known})")

    def chain(self, alias: str | None = None) -> list[ModelRoute]:
        """The alias, then its fallbacks in order (each once)."""
        alias = alias or self.default_model
        names = [alias]
        for entry in self.router_settings.fallbacks:
            names += [n for n in entry.get(alias, []) if n not in names]
        return [self.route(n) for n in names]


def _format_loc(loc: tuple[Any, ...], data: Any) -> str:
    """``model_list[0](classifier).litellm_params.timeout`` from a pydantic error location."""
    text, node = "", data
    for item in loc:
        if isinstance(item, int):
            name = node[item].get("model_name") if _is_entry(node, item) else None
            text += f"[{item}]" + (f"({name})" if isinstance(name, str) else "")
        else:
            text += f".{item}" if text else str(item)
        node = _child(node, item)
    return text or "(top level)"


def _is_entry(node: Any, index: int) -> bool:
    return isinstance(node, list) and 0 <= index < len(node) and isinstance(node[index], dict)


def _child(node: Any, item: Any) -> Any:
    try:
        return node[item]
    except (KeyError, IndexError, TypeError):
        return None


def _config_error(source: str, exc: ValidationError, data: Any) -> LlmConfigError:
    lines = []
    for err in exc.errors():
        where = _format_loc(tuple(err["loc"]), data)
        message = err["msg"].removeprefix("Value error, ")
        got = f" (got {err['input']!r})" if err["type"] not in ("missing", "value_error") else ""
        lines.append(f"{source}: {where}: {message}{got}" if err["loc"] else f"{source}: {message}")
    return LlmConfigError("invalid LLM config:\n  " + "\n  ".join(lines))


def parse_llm_config(data: Any, source: str = "<memory>") -> LlmConfig:
    """An :class:`LlmConfig` from already-parsed YAML (LlmConfigError naming ``source`` and the field)."""
    if not isinstance(data, dict):
        raise LlmConfigError(f"{source}: expected a mapping at the top level, got {type(data).__name__}")
    try:
        config = LlmConfig.model_validate(data)
    except ValidationError as exc:
        raise _config_error(source, exc, data) from None
    config.source = source
    return config


def load_llm_config(path: str | Path | None = None) -> LlmConfig:
    """Read the router file: ``path``, else ``$CALLAUDIT_LLM_CONFIG``, else ``config/llm.yaml``."""
    path = Path(path or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_PATH)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        message = f"{path}: cannot read the LLM config ({exc.strerror}); set {CONFIG_ENV} or pass a path"
        raise LlmConfigError(message) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise LlmConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_llm_config(data, str(path))


# ---------------------------------------------------------------------------------------------------------
# Requests and results
# ---------------------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------------------
# Errors, Retry-After, back-off
# ---------------------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------------------
# Calling one route
# ---------------------------------------------------------------------------------------------------------
_local_registered = False
_unpriced: set[str] = set()


def ensure_provider(model: str) -> None:
    """Register the offline ``local/`` provider the first time a ``local/`` model is called."""
    global _local_registered
    if model.startswith("local/") and not _local_registered:
        from inference.local_llm import register_local_provider

        register_local_provider()
        _local_registered = True


def _resolve(value: Any, where: str, source: str) -> Any:
    """``os.environ/NAME`` → the variable's value (LlmConfigError naming the field when it is unset)."""
    if isinstance(value, str) and value.startswith(ENV_PREFIX):
        name = value[len(ENV_PREFIX) :]
        if name not in os.environ:
            raise LlmConfigError(f"{source}: {where}: environment variable {name} is not set")
        return os.environ[name]
    if isinstance(value, dict):
        return {k: _resolve(v, f"{where}.{k}", source) for k, v in value.items()}
    return value


def completion_kwargs(route: ModelRoute, messages: list[dict[str, str]], config: LlmConfig) -> dict[str, Any]:
    """The keyword arguments of ``litellm.acompletion`` for one request on one route."""
    params = route.litellm_params.model_dump(exclude_none=True)
    where = f"model_list[{route.model_name}].litellm_params"
    params = {k: _resolve(v, f"{where}.{k}", config.source) for k, v in params.items()}
    params["timeout"] = params.get("timeout", config.router_settings.timeout)
    kind = route.model_info.response_format
    if kind == "json_schema":
        params["response_format"] = {"type": "json_schema", "json_schema": RESPONSE_SCHEMA}
    elif kind == "json_object":
        params["response_format"] = {"type": "json_object"}
    return {**params, "messages": messages, "num_retries": 0, "max_retries": 0}


def estimate_tokens(route: ModelRoute, messages: list[dict[str, str]]) -> int:
    """Prompt tokens (litellm.token_counter) plus the route's ``max_tokens``: what a call may cost."""
    try:
        prompt = litellm.token_counter(model=route.litellm_params.model, messages=messages)
    except Exception:  # noqa: BLE001 - an unknown tokenizer must not stop the run
        prompt = sum(len(m.get("content") or "") for m in messages) // 3
    return int(prompt) + route.litellm_params.max_tokens


def _cost(route: ModelRoute, response: Any, tokens_in: int, tokens_out: int) -> float:
    """Configured per-token prices, else litellm.completion_cost, else 0.0."""
    info = route.model_info
    if info.input_cost_per_token is not None or info.output_cost_per_token is not None:
        return tokens_in * (info.input_cost_per_token or 0.0) + tokens_out * (
            info.output_cost_per_token or 0.0
        )
    model = route.litellm_params.model
    if model in _unpriced:
        return 0.0
    try:
        return float(litellm.completion_cost(completion_response=response) or 0.0)
    except Exception:  # noqa: BLE001 - litellm raises for models it has no price for
        _unpriced.add(model)
        return 0.0


def _usage(response: Any, route: ModelRoute, messages: list[dict[str, str]], text: str) -> tuple[int, int]:
    usage = getattr(response, "usage", None)
    tokens_in = getattr(usage, "prompt_tokens", None)
    tokens_out = getattr(usage, "completion_tokens", None)
    if tokens_in is None:
        tokens_in = estimate_tokens(route, messages) - route.litellm_params.max_tokens
    if tokens_out is None:
        tokens_out = litellm.token_counter(model=route.litellm_params.model, text=text or "")
    return int(tokens_in), int(tokens_out)


@dataclass
class _Tally:
    """Counters of one request across its attempts."""

    attempts: int = 0
    rate_limited: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    latency_s: float = 0.0
    cost_usd: float = 0.0
    model: str = ""


@dataclass
class _Reply:
    text: str
    route: ModelRoute
    messages: list[dict[str, str]]


@dataclass
class _Run:
    """The state one classify_many run shares between its coroutines."""

    config: LlmConfig
    limiter: RateLimiter
    rng: random.Random = field(default_factory=random.Random)

    @property
    def settings(self) -> RouterSettings:
        return self.config.router_settings

    def _prepare(self, route: ModelRoute, messages: list[dict[str, str]]) -> dict[str, Any]:
        """The call's arguments, the provider registered (RouteFailed: a secret unset, no local provider)."""
        try:
            ensure_provider(route.litellm_params.model)
            return completion_kwargs(route, messages, self.config)
        except (LlmConfigError, ImportError) as exc:
            raise RouteFailed(_short(exc)) from exc

    async def call(self, route: ModelRoute, messages: list[dict[str, str]], tally: _Tally) -> _Reply:
        """One route until it answers: 429s wait and go again, transient errors get back-off and retries."""
        failures, limited_since = 0, None
        tally.model = route.litellm_params.model
        kwargs = self._prepare(route, messages)
        estimate = estimate_tokens(route, messages)
        while True:
            await self.limiter.acquire(estimate)
            tally.attempts += 1
            started = time.monotonic()
            try:
                # litellm enforces the timeout on HTTP routes; wait_for bounds custom providers too.
                fresh = {**kwargs, "messages": [dict(m) for m in messages]}  # litellm may edit them
                response = await asyncio.wait_for(litellm.acompletion(**fresh), kwargs["timeout"] + 5.0)
            except Exception as exc:  # noqa: BLE001 - every provider error is classified below
                tally.latency_s += time.monotonic() - started
                if _status_code(exc) is not None:  # the provider answered an error: nothing was used
                    self.limiter.release(estimate)
                if is_rate_limit(exc):
                    tally.rate_limited += 1
                    limited_since = limited_since or started
                    self._check_rate_limit_patience(limited_since, exc)
                    self.limiter.pause_for(self._rate_limit_wait(exc, tally.rate_limited))
                    continue
                failures += 1
                if is_permanent(exc) or failures > self.settings.num_retries:
                    raise RouteFailed(_short(exc)) from exc
                await asyncio.sleep(backoff_s(failures, self.settings, self.rng))
                continue
            tally.latency_s += time.monotonic() - started
            return self._record(route, messages, response, estimate, tally)

    def _record(
        self, route: ModelRoute, messages: list[dict[str, str]], response: Any, estimate: int, tally: _Tally
    ) -> _Reply:
        """Charge the real usage to the limiter and the tally; the answer's text."""
        try:
            text = response.choices[0].message.content or ""
        except (AttributeError, IndexError):
            text = ""
        tokens_in, tokens_out = _usage(response, route, messages, text)
        self.limiter.adjust(tokens_in + tokens_out - estimate)
        tally.tokens_in += tokens_in
        tally.tokens_out += tokens_out
        tally.cost_usd += _cost(route, response, tokens_in, tokens_out)
        return _Reply(text, route, messages)

    def _rate_limit_wait(self, exc: BaseException, count: int) -> float:
        jitter = self.rng.uniform(0, self.settings.rate_limit_jitter_s)
        seconds = retry_after_s(exc)
        if seconds is None:
            seconds = backoff_s(count, self.settings, self.rng)
        return seconds + jitter

    def _check_rate_limit_patience(self, since: float, exc: BaseException) -> None:
        limit = self.settings.max_rate_limit_wait_s
        if limit is not None and time.monotonic() - since > limit:
            raise RouteFailed(f"rate limited for more than {limit:g} s: {_short(exc)}") from exc

    async def call_chain(
        self, chain: list[ModelRoute], messages: list[dict[str, str]], tally: _Tally
    ) -> _Reply:
        """The first route that answers, in fallback order (RouteFailed listing every route's error)."""
        errors = []
        for route in chain:
            try:
                return await self.call(route, messages, tally)
            except RouteFailed as exc:
                errors.append(f"{route.model_name} ({route.litellm_params.model}): {exc}")
        raise RouteFailed("; ".join(errors))

    async def classify(self, request: CallRequest, chain: list[ModelRoute]) -> CallResult:
        """One request from messages to result (never raises for a provider's or a model's fault)."""
        messages = build_messages(request.transcript)
        tally = _Tally()
        try:
            reply = await self.call_chain(chain, messages, tally)
        except RouteFailed as exc:
            return _result(request, tally, messages, None, None, str(exc), "failed", chain[-1].model_name)
        parsed, problem = parse_reply(reply.text)
        if parsed is not None:
            return _result(request, tally, messages, reply.text, parsed, None, "ok", reply.route.model_name)
        fix = repair_messages(messages, reply.text, problem or "invalid")
        alias = reply.route.model_name
        try:
            second = await self.call(reply.route, fix, tally)
        except RouteFailed as exc:
            error = f"{problem}; the repair call failed: {exc}"
            return _result(request, tally, messages, reply.text, None, error, "invalid", alias)
        parsed, again = parse_reply(second.text)
        if parsed is not None:
            return _result(request, tally, fix, second.text, parsed, None, "ok", alias)
        error = f"{again} (after one repair retry; first answer: {problem})"
        return _result(request, tally, fix, second.text, None, error, "invalid", alias)


def _result(
    request: CallRequest,
    tally: _Tally,
    messages: list[dict[str, str]],
    raw: str | None,
    parsed: Classification | None,
    error: str | None,
    status: Status,
    route: str,
) -> CallResult:
    return CallResult(
        key=request.key,
        model=tally.model,
        prompt_version=PROMPT_VERSION,
        request_messages=messages,
        raw_response=raw,
        parsed=parsed,
        error=error,
        status=status,
        tokens_in=tally.tokens_in,
        tokens_out=tally.tokens_out,
        latency_s=round(tally.latency_s, 4),
        cost_usd=tally.cost_usd,
        attempts=tally.attempts,
        rate_limited=tally.rate_limited,
        route=route,
    )


# ---------------------------------------------------------------------------------------------------------
# Many calls
# ---------------------------------------------------------------------------------------------------------
OnResult = Callable[[CallResult], Awaitable[None] | None]
Progress = Callable[[int, int | None], None]


def limiter_for(config: LlmConfig) -> RateLimiter:
    """A fresh limiter with the config's budget."""
    budget = config.budget
    return RateLimiter(budget.tpm, budget.rpm, burst_s=budget.burst_s)


async def _deliver(on_result: OnResult, result: CallResult) -> None:
    outcome = on_result(result)
    if inspect.isawaitable(outcome):
        await outcome


async def classify_many(
    requests: Iterable[CallRequest],
    config: LlmConfig,
    on_result: OnResult,
    progress: Progress | None = None,
    *,
    model: str | None = None,
    limiter: RateLimiter | None = None,
    seed: int | None = None,
) -> RunStats:
    """Classify every request through route ``model`` (default: ``config.default_model``) and its fallbacks.

    At most ``budget.max_concurrency`` requests are in flight; all share one limiter (``limiter`` or a fresh
    one from ``config.budget``). ``requests`` is consumed lazily. Every result goes to ``on_result`` (sync or
    async) as soon as it is known, then ``progress(done, total)`` is called (total None when ``requests`` has
    no length). An exception raised by ``on_result`` stops the run and is raised here; provider and model
    errors never are (they become "failed" / "invalid" results).
    """
    chain = config.chain(model)
    run = _Run(config, limiter or limiter_for(config), random.Random(seed))
    stats = RunStats()
    total = len(requests) if isinstance(requests, Sized) else None
    pending = iter(requests)
    started = time.monotonic()

    async def worker() -> None:
        for request in pending:
            try:
                result = await run.classify(request, chain)
            except Exception as exc:  # noqa: BLE001 - a bug on one request must not sink the batch
                alias = chain[0].model_name
                result = _result(request, _Tally(), [], None, None, _short(exc), "failed", alias)
            await _deliver(on_result, result)
            stats.add(result)
            if progress is not None:
                progress(stats.done, total)

    workers = [asyncio.create_task(worker()) for _ in range(config.budget.max_concurrency)]
    try:
        await _wait_all(workers)
    finally:
        stats.elapsed_s = time.monotonic() - started
        stats.limiter_wait_s = run.limiter.waited_s
    return stats


async def _wait_all(tasks: list[asyncio.Task[None]]) -> None:
    """Wait for every task; on the first exception cancel the others and raise it."""
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    failed = [t for t in done if not t.cancelled() and t.exception() is not None]
    if failed:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        raise failed[0].exception()  # type: ignore[misc]
