"""What every per-call stage shares: one result type, one skeleton (:func:`run_stage`: select the shard's
pending items, close at once when there are none, else process them under a progress bar), the Prefect task
that runs a stage's shard under its lock, the merge of the shards' results, and the log line and telemetry
that close a stage.

The stages (``flows.audio``, ``flows.transcribe``, ``flows.redact``, ``flows.classify``, ``flows.embed``)
are :class:`Stage` subclasses that keep only what is their own: which items are pending (selected and
sharded in SQL with :meth:`flows.runtime.Shard.sql`), how they are processed, and the rows they write.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

import psycopg
from prefect import get_run_logger, task
from prefect.cache_policies import NONE

from flows.config import Settings
from flows.progress import progress_bar
from flows.runtime import STAGE_RETRIES, WHOLE, Shard, stage_lock
from flows.telemetry import StageMeter, StageTelemetry, combine

Item = TypeVar("Item")
Advance = Callable[..., None]


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


@dataclass
class Work(Generic[Item]):
    """A stage's pending items on one shard, and how many items of the shard a previous run had done.
    ``units``: the progress bar's total where it does not count items (default: one per item)."""

    items: list[Item]
    done_before: int
    model_id: str | None = None
    units: int | None = None


class Stage(Generic[Item]):
    """A per-call stage: :meth:`pending` selects the shard's items (in SQL), :meth:`process` processes
    them, writes their rows and closes the stage (:func:`finish`). :func:`run_stage` runs one."""

    label: ClassVar[str]  # the stage in logs, progress bars and telemetry ("transcription")
    version_key: ClassVar[str] = "model"  # what the telemetry calls the stage's version (Work.model_id)
    zero_counts: ClassVar[dict[str, float]] = {}  # the stage's own tallies when it had nothing to do

    def pending(self, conn: psycopg.Connection, shard: Shard) -> Work[Item]:
        raise NotImplementedError

    def process(self, work: Work[Item], shard: Shard, meter: StageMeter, advance: Advance) -> StageResult:
        raise NotImplementedError

    def nothing_new(self, work: Work[Item], meter: StageMeter) -> StageResult:
        """The result of a run with nothing pending: every item of the shard was done before."""
        name = f"{self.label} ({work.model_id})" if work.model_id else self.label
        return finish(
            meter,
            "%s: nothing new, %d already done",
            name,
            work.done_before,
            skipped=work.done_before,
            model_id=work.model_id,
            counts=self.zero_counts,
            **({self.version_key: work.model_id} if work.model_id else {}),
        )


def run_stage(stage: Stage[Any], database_url: str, shard: Shard) -> StageResult:
    """Run ``stage`` on ``shard``: select what is pending, and either close at once (nothing new) or
    process it under a progress bar (on a terminal only)."""
    meter = StageMeter(stage.label)
    with psycopg.connect(database_url) as conn:
        work = stage.pending(conn, shard)
    if not work.items:
        return stage.nothing_new(work, meter)
    total = len(work.items) if work.units is None else work.units
    with progress_bar(f"{stage.label} {shard}", total=total) as advance:
        return stage.process(work, shard, meter, advance)


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
