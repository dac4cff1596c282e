"""What every per-call stage shares: one result type, the Prefect task that runs a stage's shard under
its lock, the merge of the shards' results, and the log line and telemetry that close a stage.

The stages (``flows.audio``, ``flows.transcribe``, ``flows.redact``, ``flows.classify``, ``flows.embed``)
keep only what is their own: which items are pending (selected and sharded in SQL with
:meth:`flows.runtime.Shard.sql`), how an item is processed, and the rows it writes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NONE

from flows.config import Settings
from flows.runtime import STAGE_RETRIES, WHOLE, Shard, stage_lock
from flows.telemetry import StageMeter, StageTelemetry, combine


@dataclass
class StageResult:
    """What one run of a stage (or of one of its shards) did.

    ``processed``: items done now; ``skipped``: items a previous run had done; ``rejected``: items
    quarantined with a reason (``ops.rejects``). ``counts`` holds the stage's own tallies (entities found,
    LLM tokens and cost, distinct texts embedded …); shards' counts add up."""

    stage: str
    processed: int = 0
    skipped: int = 0
    rejected: int = 0
    model_id: str | None = None
    counts: dict[str, float] = field(default_factory=dict)
    telemetry: StageTelemetry | None = None


StageFn = Callable[[str, Settings, Shard], StageResult]


def stage_task(name: str) -> Callable[[StageFn], Any]:
    """A Prefect task ``name`` that runs ``fn(database_url, settings, shard)`` holding the advisory lock
    of that stage and shard: two runs at once never process the same items twice."""

    def decorate(fn: StageFn):
        def run(database_url: str, settings: Settings, shard: Shard = WHOLE) -> StageResult:
            with stage_lock(database_url, f"{name}:{shard}"):
                return fn(database_url, settings, shard)

        # named and documented as the stage (Prefect keys a task by its function's name), with this
        # signature (its default shard), not fn's: no __wrapped__ for inspect.signature to follow
        for attribute in ("__module__", "__name__", "__qualname__", "__doc__"):
            setattr(run, attribute, getattr(fn, attribute))
        return task(name=name, cache_policy=NONE, **STAGE_RETRIES)(run)

    return decorate


def finish(
    meter: StageMeter,
    message: str,
    *args: object,
    processed: int = 0,
    skipped: int = 0,
    rejected: int = 0,
    model_id: str | None = None,
    counts: dict[str, float] | None = None,
    level: int = logging.INFO,
    **telemetry_extra: object,
) -> StageResult:
    """Log the stage's closing line (``message % args``) and return its result with its telemetry."""
    get_run_logger().log(level, message, *args)
    return StageResult(
        meter.stage,
        processed,
        skipped,
        rejected,
        model_id,
        dict(counts or {}),
        meter.done(skipped, **telemetry_extra),
    )


def merge_results(results: list[StageResult]) -> StageResult:
    """The shards' results of one stage as one: counts summed, the first model named, telemetry combined
    (wall time from the first start to the last finish)."""
    if len(results) == 1:
        return results[0]
    counts: dict[str, float] = {}
    for r in results:
        for key, value in r.counts.items():
            counts[key] = counts.get(key, 0) + value
    parts = [r.telemetry for r in results if r.telemetry is not None]
    return StageResult(
        results[0].stage,
        sum(r.processed for r in results),
        sum(r.skipped for r in results),
        sum(r.rejected for r in results),
        next((r.model_id for r in results if r.model_id is not None), None),
        counts,
        combine(parts[0].stage, parts) if parts else None,
    )
