"""A token-bucket limiter for the LLM calls of one run: tokens per minute and requests per minute.

Every call first takes its estimated tokens and one request from the shared :class:`RateLimiter`; when the
provider's answer says how many tokens it really used, :meth:`RateLimiter.adjust` charges or gives back the
difference. Both buckets refill continuously (``tpm / 60`` tokens a second) up to their capacity, one
minute's worth by default (``burst_s``). Waiters are served strictly first come, first served by one pump
task that sleeps until the head of the queue can be served, or until something changes (tokens given back,
a pause): no busy waiting, no threads.

A 429 from the provider means its budget is spent whatever we believed: :meth:`RateLimiter.pause_until`
stops everyone until the given time and restarts both buckets empty then, so the run falls in step with the
provider instead of bursting into it again.

The clock is injectable (``now()`` and ``async sleep()``) so tests can run on a fake one.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol

MIN_SLEEP_S = 0.001


class Clock(Protocol):
    """Time source of a limiter: seconds on a monotonic scale, and a way to wait."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class MonotonicClock:
    """The real clock: ``time.monotonic`` and ``asyncio.sleep``."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class Bucket:
    """One continuously refilling bucket; its level may go negative (debt) after an under-estimate."""

    def __init__(self, per_period: float | None, period_s: float, burst_s: float, now: float) -> None:
        self.rate = math.inf if per_period is None else per_period / period_s
        self.capacity = math.inf if per_period is None else max(self.rate * burst_s, 1.0)
        self.level = self.capacity
        self.updated = now

    def refill(self, now: float) -> None:
        """Add what flowed in since the last update (nothing before ``updated``, e.g. during a pause)."""
        if now <= self.updated:
            return
        if math.isinf(self.rate):
            self.level = math.inf
        else:
            self.level = min(self.capacity, self.level + (now - self.updated) * self.rate)
        self.updated = now

    def need(self, amount: float) -> float:
        """What must be in the bucket to take ``amount`` (at most the capacity: big asks go into debt)."""
        return min(amount, self.capacity)

    def wait_s(self, amount: float) -> float:
        """Seconds of refill until ``amount`` can be taken (from ``updated``)."""
        deficit = self.need(amount) - self.level
        return 0.0 if deficit <= 0 else deficit / self.rate

    def restart_empty(self, at: float) -> None:
        """Drop what is left (keep any debt) and refill only from ``at``."""
        self.level = min(self.level, 0.0)
        self.updated = max(self.updated, at)


@dataclass
class _Waiter:
    tokens: float
    requests: float
    future: asyncio.Future[None]


class RateLimiter:
    """Async token buckets for ``tpm`` tokens and ``rpm`` requests per period (None: unlimited).

    ``period_s`` is a minute unless a test shrinks it; ``burst_s`` is the capacity of both buckets in
    seconds of refill (default: one period's worth). One instance is shared by all coroutines of a run.
    """

    def __init__(
        self,
        tpm: float | None,
        rpm: float | None,
        *,
        period_s: float = 60.0,
        burst_s: float | None = None,
        clock: Clock | None = None,
    ) -> None:
        if period_s <= 0 or (burst_s is not None and burst_s <= 0):
            raise ValueError("period_s and burst_s must be positive")
        for name, value in (("tpm", tpm), ("rpm", rpm)):
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive or None (unlimited), got {value}")
        self.clock: Clock = clock or MonotonicClock()
        now = self.clock.now()
        burst = period_s if burst_s is None else burst_s
        self.tokens = Bucket(tpm, period_s, burst, now)
        self.requests = Bucket(rpm, period_s, burst, now)
        self.paused_until = -math.inf
        self.waited_s = 0.0
        self._queue: deque[_Waiter] = deque()
        self._changed: asyncio.Event | None = None
        self._pump: asyncio.Task[None] | None = None

    # -- public API ------------------------------------------------------------------------------------
    async def acquire(self, tokens: float, requests: float = 1.0) -> float:
        """Wait (FIFO) until ``tokens`` and ``requests`` are available and take them; the seconds waited."""
        started = self.clock.now()
        if not self._queue and self._try_take(tokens, requests, started):
            return 0.0
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiter = _Waiter(float(tokens), float(requests), future)
        self._queue.append(waiter)
        self._ensure_pump()
        try:
            await future
        except asyncio.CancelledError:
            self._forget(waiter)
            raise
        waited = self.clock.now() - started
        self.waited_s += waited
        return waited

    def adjust(self, delta_tokens: float) -> None:
        """Charge ``delta_tokens`` more (positive) or give back (negative) once the real usage is known."""
        now = self.clock.now()
        self.tokens.refill(now)
        self.tokens.level = min(self.tokens.capacity, self.tokens.level - delta_tokens)
        if delta_tokens < 0:
            self._wake()

    def release(self, tokens: float, requests: float = 0.0) -> None:
        """Give back what an acquire took and did not use (e.g. a request the provider refused)."""
        self.adjust(-tokens)
        if requests:
            self.requests.refill(self.clock.now())
            self.requests.level = min(self.requests.capacity, self.requests.level + requests)
            self._wake()

    def pause_until(self, t: float) -> None:
        """Nobody gets anything before ``t`` (this limiter's clock); both buckets restart empty at ``t``."""
        if t <= self.paused_until:
            return
        now = self.clock.now()
        for bucket in (self.tokens, self.requests):
            bucket.refill(now)
            bucket.restart_empty(t)
        self.paused_until = t
        self._wake()

    def pause_for(self, seconds: float) -> None:
        """:meth:`pause_until` ``now + seconds``."""
        self.pause_until(self.clock.now() + seconds)

    @property
    def queued(self) -> int:
        """How many coroutines are waiting."""
        return len(self._queue)

    # -- internals -------------------------------------------------------------------------------------
    def _try_take(self, tokens: float, requests: float, now: float) -> bool:
        if now < self.paused_until:
            return False
        self.tokens.refill(now)
        self.requests.refill(now)
        if self.tokens.level < self.tokens.need(tokens) or self.requests.level < self.requests.need(requests):
            return False
        self.tokens.level -= tokens
        self.requests.level -= requests
        return True

    def _delay(self, waiter: _Waiter, now: float) -> float:
        """Seconds until ``waiter`` can be served if nothing changes."""
        delays = []
        for bucket, amount in ((self.tokens, waiter.tokens), (self.requests, waiter.requests)):
            delays.append(max(bucket.updated - now, 0.0) + bucket.wait_s(amount))
        return max(MIN_SLEEP_S, self.paused_until - now, *delays)

    def _ensure_pump(self) -> None:
        if self._changed is None:
            self._changed = asyncio.Event()
        if self._pump is None or self._pump.done():
            self._pump = asyncio.get_running_loop().create_task(self._run_pump(), name="rate-limiter")

    def _wake(self) -> None:
        if self._changed is not None:
            self._changed.set()

    async def _run_pump(self) -> None:
        """Serve the head of the queue whenever it fits; sleep until it will, or until something changes."""
        assert self._changed is not None
        while self._queue:
            head = self._queue[0]
            if head.future.done():  # cancelled while waiting
                self._queue.popleft()
                continue
            now = self.clock.now()
            if self._try_take(head.tokens, head.requests, now):
                self._queue.popleft()
                head.future.set_result(None)
                continue
            self._changed.clear()
            await self._sleep_or_change(self._delay(head, now))

    async def _sleep_or_change(self, seconds: float) -> None:
        assert self._changed is not None
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        changed = asyncio.ensure_future(self._changed.wait())
        try:
            await asyncio.wait({sleeper, changed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, changed):
                task.cancel()
            for task in (sleeper, changed):
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def _forget(self, waiter: _Waiter) -> None:
        """A cancelled waiter leaves the queue; if it had just been served, its share goes back."""
        if waiter.future.done() and not waiter.future.cancelled():
            self.release(waiter.tokens, waiter.requests)
        with contextlib.suppress(ValueError):
            self._queue.remove(waiter)
        self._wake()
