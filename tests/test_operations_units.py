"""The small parts of operations: telemetry arithmetic, shards (in Python and in SQL), merging shard
results, the sensor's choice of days and the backfill's range."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from prefect.logging import disable_run_logger

from flows.arrivals import Arrival, days_to_audit
from flows.backfill import MAX_DAYS, days_between
from flows.runtime import Shard
from flows.stage import Stage, StageResult, Work, finish, merge_results, run_stage
from flows.telemetry import StageMeter, StageTelemetry, combine

T0 = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)


def telemetry(stage: str, start_s: float, end_s: float, latencies: list[float], errors: int = 0):
    return StageTelemetry(
        stage,
        T0 + dt.timedelta(seconds=start_s),
        T0 + dt.timedelta(seconds=end_s),
        len(latencies),
        errors=errors,
        latencies_s=latencies,
    )


def test_a_unit_of_several_items_shares_its_time_among_them() -> None:
    meter = StageMeter("transcription")
    meter.observe(8.0, items=8)  # a batch of 8 calls in 8 s: 1 s of work each
    meter.observe(3.0)
    meter.error()
    done = meter.done(skipped=2, model="m")
    assert done.items == 9 and done.errors == 1 and done.skipped == 2
    assert done.latencies_s == [1.0] * 8 + [3.0]
    assert done.p50_latency_s == 1.0
    assert done.p95_latency_s == pytest.approx(2.2)  # numpy's linear interpolation between 1.0 and 3.0
    assert done.detail == {"model": "m"}


def test_shards_of_a_stage_combine_into_wall_time_and_all_items_percentiles() -> None:
    a = telemetry("embeddings", 0, 10, [0.1] * 19 + [5.0])
    b = telemetry("embeddings", 2, 14, [0.2] * 20, errors=1)
    both = combine("embeddings", [a, b])
    assert both.seconds == 14 and both.items == 40 and both.errors == 1
    assert both.items_per_s == pytest.approx(40 / 14)
    assert both.p95_latency_s == pytest.approx(0.2)  # one slow item of 40 is not the 95th percentile
    assert both.detail == {"shards": 2}


def test_shards_partition_the_keys() -> None:
    keys = [f"{i:064x}" for i in range(2000)]
    shards = [Shard(i, 3) for i in range(3)]
    owners = [[s for s in shards if s.holds(k)] for k in keys]
    assert all(len(o) == 1 for o in owners)  # every item in exactly one shard
    sizes = [sum(1 for o in owners if o[0] is s) for s in shards]
    assert min(sizes) > 550  # roughly even
    assert all(Shard().holds(k) for k in keys[:10])


def test_merged_shard_results_add_counts_and_keep_names() -> None:
    merged = merge_results(
        [
            StageResult(
                "classification", 3, 1, 0, None, {"tokens": 10, "cost_usd": 0.5},
                telemetry("classification", 0, 1, [0.1] * 3),
            ),
            StageResult(
                "classification", 4, 0, 2, "m@1", {"tokens": 5, "cost_usd": 0.25, "resent": 1},
                telemetry("classification", 0, 2, [0.2] * 4),
            ),
        ]
    )  # fmt: skip
    assert (merged.stage, merged.processed, merged.skipped, merged.rejected, merged.model_id) == (
        "classification",
        7,
        1,
        2,
        "m@1",
    )
    assert merged.counts == {"tokens": 15, "cost_usd": 0.75, "resent": 1}
    assert merged.telemetry.items == 7 and merged.telemetry.seconds == 2


def test_a_shard_selects_the_same_items_in_sql_as_in_python(database_url: str) -> None:
    """The stages select their shard's pending rows in SQL: the same hash as Shard.holds."""
    keys = [f"{i:064x}" for i in range(300)] + ["C000001", "é-ü"]
    with psycopg.connect(database_url) as conn:
        for shard in (Shard(0, 3), Shard(2, 3), Shard(1, 2), Shard()):
            rows = conn.execute(
                f"select k from unnest(%s::text[]) as k where {shard.sql('k')}", [keys]
            ).fetchall()
            assert [k for (k,) in rows] == [k for k in keys if shard.holds(k)]


class Keys(Stage[str]):
    """A stage over a list of keys, selected and sharded in SQL; a key is done once processed."""

    label = "keys"

    def __init__(self, keys: list[str], done: set[str]) -> None:
        self.keys, self.done, self.batches = keys, done, []

    def pending(self, conn: psycopg.Connection, shard: Shard) -> Work[str]:
        rows = conn.execute(f"select k from unnest(%s::text[]) as k where {shard.sql('k')}", [self.keys])
        mine = [k for (k,) in rows]
        todo = [k for k in mine if k not in self.done]
        return Work(todo, len(mine) - len(todo), "keys-1")

    def process(self, work: Work[str], shard: Shard, meter: StageMeter, advance) -> StageResult:
        self.batches.append((shard, list(work.items)))
        for key in work.items:
            self.done.add(key)
            meter.observe(0.01)
            advance()
        processed = len(work.items)
        return finish(meter, "keys: %d", processed, processed=processed, skipped=work.done_before)


def test_run_stage_processes_the_shard_s_pending_items_and_nothing_when_none_are(database_url: str) -> None:
    keys = [f"{i:064x}" for i in range(50)]
    stage = Keys(keys, done=set(keys[:10]))
    with disable_run_logger():
        halves = [run_stage(stage, database_url, Shard(i, 2)) for i in range(2)]
        again = run_stage(stage, database_url, Shard())
    assert [len(items) for _, items in stage.batches] == [r.processed for r in halves]
    assert all(shard.holds(k) for shard, items in stage.batches for k in items)
    assert sum(r.processed for r in halves) == 40 and sum(r.skipped for r in halves) == 10
    assert stage.done == set(keys)
    assert len(stage.batches) == 2  # the third run found nothing pending: process was not called
    assert (again.stage, again.processed, again.skipped, again.model_id) == ("keys", 0, 50, "keys-1")
    assert again.telemetry.items == 0 and again.telemetry.skipped == 50


def test_the_sensor_audits_new_manifest_days_and_the_latest_day_for_new_calls() -> None:
    d1, d2 = dt.date(2026, 11, 19), dt.date(2026, 11, 20)
    found = [
        Arrival("manifest", "SAV_ADSL_20261119.csv", "a", d1),
        Arrival("manifest", "SAV_ADSL_20261120.csv", "b", d2),
        Arrival("calls", "calls.csv", "c", None),
        Arrival("recording", "x.wav", "d", None),
    ]
    assert days_to_audit([found[0]], found) == [d1]
    assert days_to_audit([found[3]], found) == [d2]  # a recording: the latest manifest day
    assert days_to_audit([found[0], found[2]], found) == [d1, d2]
    assert days_to_audit([], found) == []


def test_backfill_ranges_are_checked() -> None:
    assert days_between(dt.date(2026, 11, 1), dt.date(2026, 11, 3)) == [
        dt.date(2026, 11, 1),
        dt.date(2026, 11, 2),
        dt.date(2026, 11, 3),
    ]
    with pytest.raises(ValueError, match="before start"):
        days_between(dt.date(2026, 11, 3), dt.date(2026, 11, 1))
    with pytest.raises(ValueError, match="at most"):
        days_between(dt.date(2025, 1, 1), dt.date(2025, 1, 1) + dt.timedelta(days=MAX_DAYS))
