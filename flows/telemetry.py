"""Stage telemetry: items, seconds, throughput, errors and latency per item, for every stage of a run.

A stage fills a ``StageMeter`` as it works (``observe(seconds, items)`` per unit of work: a file, a group of
calls sent to the ASR model together, an LLM request, a batch of embeddings) and returns its
``StageTelemetry``; the flow writes them to ``ops.stage_runs`` and shows them in the run's artifact. The
latency of an item is the work time of the unit it was processed in, shared among the unit's items.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np


@dataclass
class StageTelemetry:
    stage: str
    started_at: dt.datetime
    finished_at: dt.datetime
    items: int
    skipped: int = 0
    errors: int = 0
    latencies_s: list[float] = field(default_factory=list, repr=False)
    detail: dict = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return max(0.0, (self.finished_at - self.started_at).total_seconds())

    @property
    def items_per_s(self) -> float | None:
        return self.items / self.seconds if self.items and self.seconds > 0 else None

    @property
    def p50_latency_s(self) -> float | None:
        return percentile(self.latencies_s, 50)

    @property
    def p95_latency_s(self) -> float | None:
        return percentile(self.latencies_s, 95)

    def as_dict(self) -> dict:
        """The figures of ``ops.stage_runs`` (without the per-item latencies)."""
        return {
            "stage": self.stage,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "items": self.items,
            "skipped": self.skipped,
            "errors": self.errors,
            "seconds": self.seconds,
            "items_per_s": self.items_per_s,
            "p50_latency_s": self.p50_latency_s,
            "p95_latency_s": self.p95_latency_s,
            "detail": self.detail,
        }


def percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else None


def combine(stage: str, parts: list[StageTelemetry]) -> StageTelemetry:
    """One stage's telemetry from its shards (run side by side): wall time from the first start to the last
    finish, counts summed, latency percentiles over all the shards' items."""
    if not parts:
        now = dt.datetime.now(dt.UTC)
        return StageTelemetry(stage, now, now, 0)
    detail = dict(parts[0].detail) if len(parts) == 1 else {"shards": len(parts)}
    return StageTelemetry(
        stage,
        min(p.started_at for p in parts),
        max(p.finished_at for p in parts),
        sum(p.items for p in parts),
        sum(p.skipped for p in parts),
        sum(p.errors for p in parts),
        [x for p in parts for x in p.latencies_s],
        detail,
    )


class StageMeter:
    """Collects one stage's work: ``observe`` per unit of work, ``error`` per quarantined item."""

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self.started_at = dt.datetime.now(dt.UTC)
        self.latencies: list[float] = []
        self.items = 0
        self.errors = 0
        self.skipped = 0
        self.detail: dict = {}

    def observe(self, seconds: float, items: int = 1) -> None:
        if items <= 0:
            return
        self.items += items
        self.latencies.extend([seconds / items] * items)

    def error(self, count: int = 1) -> None:
        self.errors += count

    @contextmanager
    def unit(self, items: int = 1) -> Iterator[None]:
        """Time a unit of work of ``items`` items."""
        started = time.perf_counter()
        yield
        self.observe(time.perf_counter() - started, items)

    def done(self, skipped: int = 0, **detail) -> StageTelemetry:
        self.skipped = skipped
        self.detail.update(detail)
        return StageTelemetry(
            self.stage,
            self.started_at,
            dt.datetime.now(dt.UTC),
            self.items,
            skipped,
            self.errors,
            self.latencies,
            self.detail,
        )


STAGE_RUN_COLUMNS = (
    "run_id",
    "flow",
    "stage",
    "audit_day",
    "started_at",
    "finished_at",
    "items",
    "skipped",
    "errors",
    "seconds",
    "items_per_s",
    "p50_latency_s",
    "p95_latency_s",
    "detail",
)


def stage_run_rows(run_id: str, flow: str, day: dt.date | None, stages: list[StageTelemetry]) -> list[tuple]:
    rows = []
    for t in stages:
        rows.append(
            (
                run_id,
                flow,
                t.stage,
                day,
                t.started_at,
                t.finished_at,
                t.items,
                t.skipped,
                t.errors,
                t.seconds,
                t.items_per_s,
                t.p50_latency_s,
                t.p95_latency_s,
                json.dumps(t.detail, default=str),
            )
        )
    return rows


def telemetry_table(stages: list[StageTelemetry]) -> list[dict]:
    """The rows of the run's stage-telemetry artifact."""

    def fmt(value: float | None, digits: int = 3) -> str:
        return "" if value is None else f"{value:.{digits}f}"

    return [
        {
            "stage": t.stage,
            "items": t.items,
            "skipped": t.skipped,
            "errors": t.errors,
            "seconds": fmt(t.seconds, 2),
            "items/s": fmt(t.items_per_s, 2),
            "p50 latency (s)": fmt(t.p50_latency_s),
            "p95 latency (s)": fmt(t.p95_latency_s),
        }
        for t in stages
    ]
