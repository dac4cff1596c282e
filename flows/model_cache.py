"""Models that are slow to build (the Redactor: Presidio and two spaCy models, 25–60 s; the embedding model),
kept by the process that built them and lent again to the stage's next run with the same configuration.

A stage borrows one for the duration of its work and gives it back; a second borrower at the same time (two
shards on the threads runner) gets one of its own, so no model is ever used by two stages at once. A
process that runs the daily flow several times (a served worker, the test session) builds each model once
instead of once per run; a stage with nothing to do never borrows, so never builds.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_idle: dict[Hashable, list[Any]] = defaultdict(list)


@contextmanager
def borrowed(key: Hashable, build: Callable[[], T]) -> Iterator[T]:
    """An idle model built earlier under ``key`` (the configuration it was built from), else ``build()``;
    idle again when the block ends, whether it succeeded or not."""
    with _lock:
        idle = _idle[key]
        model = idle.pop() if idle else None
    if model is None:
        model = build()
    try:
        yield model
    finally:
        with _lock:
            _idle[key].append(model)


def idle_count(key: Hashable) -> int:
    """How many models built under ``key`` are waiting to be lent."""
    with _lock:
        return len(_idle.get(key, ()))


def clear() -> None:
    """Forget every idle model (they are freed once no stage holds them)."""
    with _lock:
        _idle.clear()
