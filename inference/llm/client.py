""":func:`classify_many`, the async client: at most ``budget.max_concurrency`` requests in flight, each
attempt taking its estimated tokens from one shared :class:`inference.budget.RateLimiter`. A run's
state (``_Run``) calls a route until it answers (429s wait for ``Retry-After``, transient errors get
back-off and retries), walks the fallbacks, repairs an invalid answer once, and hands every
:class:`CallResult` to ``on_result`` as soon as it is known."""

from __future__ import annotations

import asyncio
import inspect
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Sized
from dataclasses import dataclass, field
from typing import Any

import litellm

from inference.budget import RateLimiter
from inference.llm.config import LlmConfig, LlmConfigError, ModelRoute, RouterSettings
from inference.llm.parsing import parse_reply
from inference.llm.results import CallRequest, CallResult, RunStats, Status
from inference.llm.retries import (
    RouteFailed,
    _short,
    _status_code,
    backoff_s,
    is_permanent,
    is_rate_limit,
    retry_after_s,
)
from inference.llm.routes import _cost, _usage, completion_kwargs, ensure_provider, estimate_tokens
from inference.llm_schema import PROMPT_VERSION, Classification, build_messages, repair_messages


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
