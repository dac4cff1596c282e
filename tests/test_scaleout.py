"""Scale-out and operations on real parts: the Dask task runner on a local cluster of 2 workers gives the
same marts as the default threads; a backfill runs its days as subflows side by side without double work;
every run leaves its stage telemetry in ops.stage_runs and its artifacts in Prefect."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg
import pytest

from tests.conftest import DAY, Warehouse, create_database

pytestmark = pytest.mark.usefixtures("prefect_api")

PER_CALL_TABLES = {
    "raw.audio_analysis": "sha256",
    "raw.transcripts": "sha256, channel",
    "raw.redacted_transcripts": "sha256, channel",
    "raw.classifications": "sha256",
    "raw.transcript_embeddings": "sha256",
}


def marts(url: str) -> dict[str, list[tuple]]:
    """Every verdict and attempt column an analyst reads, in a stable order."""
    with psycopg.connect(url) as conn:
        return {
            "order_compliance": conn.execute(
                """select order_type, order_id, attempts, counted_attempts, branch_ok, attempts_ok, gap_ok,
                          outcome_ok, duplicate_ok, compliant, needs_review, reasons
                   from marts.order_compliance order by 1, 2"""
            ).fetchall(),
            "call_attempts": conn.execute(
                """select call_id, order_id, outcome, call_type, is_duplicate
                   from marts.call_attempts order by 1, 2"""
            ).fetchall(),
        }


def per_call_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {
            t: conn.execute(f"select count(*) from (select distinct {k} from {t}) d").fetchone()[0]
            for t, k in PER_CALL_TABLES.items()
        }


@pytest.fixture(scope="module")
def database_url(warehouse_url: str) -> str:
    """The session's shared warehouse, read-only (the backfill works on a copy)."""
    return warehouse_url


@pytest.fixture(scope="module")
def threads_run(warehouse: Warehouse):
    """The cold run with the default threads runner that built the shared warehouse."""
    return warehouse.run


@pytest.fixture(scope="module")
def dask_database(server_url: str) -> str:
    return create_database(server_url, "t_dask")


@pytest.fixture(scope="module")
def dask_run(threads_run, dataset: Path, dask_database: str, tmp_path_factory: pytest.TempPathFactory):
    """The same inputs through the Dask task runner: a local cluster of 2 worker processes, 2 shards (its
    report to a folder of its own: the state dir keeps the shared warehouse's)."""
    from flows.daily import daily_compliance

    mp = pytest.MonkeyPatch()
    mp.setenv("DATABASE_URL", dask_database)
    mp.setenv("CALLAUDIT_REPORT_DIR", str(tmp_path_factory.mktemp("dask-reports")))
    mp.setenv("CALLAUDIT_TASK_RUNNER", "dask")
    mp.setenv("CALLAUDIT_DASK_WORKERS", "2")
    try:
        return daily_compliance(
            date=DAY,
            manifests_dir=str(dataset / "manifests"),
            calls_file=str(dataset / "calls.csv"),
            audio_root=str(dataset / "audio"),
        )
    finally:
        mp.undo()


def test_dask_runner_on_two_workers_gives_the_same_marts(threads_run, dask_run, database_url, dask_database):
    assert dask_run.orders == threads_run.orders > 0
    assert per_call_counts(dask_database) == per_call_counts(database_url)
    threads, dask = marts(database_url), marts(dask_database)
    assert dask["order_compliance"] == threads["order_compliance"]
    assert dask["call_attempts"] == threads["call_attempts"]


def test_dask_run_split_each_per_call_stage_into_two_shards(dask_run):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName, FlowRunFilter
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        latest_infer = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["infer-calls"])),
            sort=FlowRunSort.START_TIME_DESC,
            limit=1,
        )[0]
        task_runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id={"any_": [latest_infer.id]}))
    per_stage: dict[str, int] = {}
    for run in task_runs:
        per_stage[run.task_key.rsplit("-", 1)[0]] = per_stage.get(run.task_key.rsplit("-", 1)[0], 0) + 1
    assert sorted(per_stage.values()) == [2, 2, 2, 2, 2], per_stage
    stages = {t.stage: t for t in dask_run.stages}
    assert stages["transcription"].detail.get("shards") == 2
    assert stages["transcription"].items == dask_run.recordings_transcribed > 0


def test_every_stage_of_a_run_is_in_ops_stage_runs(threads_run, database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            """select stage, items, errors, seconds, items_per_s, p95_latency_s, audit_day
               from ops.stage_runs where flow = 'daily-compliance'"""
        ).fetchall()
    stages = {r[0]: r for r in rows}
    expected = {
        "ingest",
        "audio analysis",
        "transcription",
        "redaction",
        "classification",
        "embeddings",
        "dbt build",
        "expectations",
    }
    assert expected <= set(stages)
    assert stages["audio analysis"][1] == threads_run.recordings_analysed > 0
    assert stages["transcription"][1] == threads_run.recordings_transcribed > 0
    assert stages["dbt build"][1] == threads_run.dbt_nodes
    assert stages["expectations"][1] == threads_run.expectations
    for name in ("audio analysis", "transcription", "redaction", "classification", "embeddings"):
        _, items, errors, seconds, rate, p95, day = stages[name]
        assert seconds > 0 and rate == pytest.approx(items / seconds) and p95 is not None and p95 > 0, name
        assert day == DAY


def test_the_run_publishes_summary_failures_and_telemetry_artifacts(threads_run) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

    # other modules' runs publish under the same keys on the shared API: read this run's own artifacts
    this_run = ArtifactFilterFlowRunId(any_=[threads_run.run_id])
    with get_client(sync_client=True) as client:
        latest = {
            key: client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key]), flow_run_id=this_run),
                limit=1,
            )
            for key in ("daily-compliance-summary", "non-compliant-orders", "stage-telemetry")
        }
    assert all(latest.values()), {k: len(v) for k, v in latest.items()}
    summary = latest["daily-compliance-summary"][0].data
    assert f"# Compliance audit of {DAY}" in summary
    assert "## Per branch" in summary and "## Per motif" in summary and "## Stages" in summary
    assert f"**{threads_run.orders}** audited orders" in summary


def test_backfill_runs_days_as_subflows_side_by_side_without_double_work(
    threads_run, dataset: Path, warehouse_clone: str
) -> None:
    """Two days at once: the first has its manifests (already audited: nothing to redo), the second has
    none. Both run as subflows; the stage locks keep their stages apart; nothing is inferred twice."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName, FlowRunFilter

    from flows.backfill import backfill

    before = per_call_counts(warehouse_clone)
    state = backfill(
        start=DAY,
        end=DAY + dt.timedelta(days=1),
        max_parallel=2,
        manifests_dir=str(dataset / "manifests"),
        calls_file=str(dataset / "calls.csv"),
        audio_root=str(dataset / "audio"),
        return_state=True,
    )
    assert state.is_completed(), state.message
    results = state.result()
    assert [r["day"] for r in results] == [DAY.isoformat(), (DAY + dt.timedelta(days=1)).isoformat()]
    assert results[0]["orders"] == threads_run.orders and results[1]["orders"] == 0
    assert per_call_counts(warehouse_clone) == before  # nothing analysed, transcribed… twice
    with get_client(sync_client=True) as client:
        [parent] = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["backfill"])),
            flow_run_filter=FlowRunFilter(id={"any_": [state.state_details.flow_run_id]}),
        )
        children = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["daily-compliance"])),
            flow_run_filter=FlowRunFilter(parent_flow_run_id={"any_": [parent.id]}),
        )
        limit = client.read_global_concurrency_limit_by_name("callaudit-backfill-days")
    assert len(children) == 2 and all(c.state.is_completed() for c in children)
    # the two days overlapped in time: side by side, not one after the other
    (a_start, a_end), (b_start, b_end) = sorted((c.start_time, c.end_time) for c in children)
    assert b_start < a_end
    assert limit.limit == 2
    with psycopg.connect(warehouse_clone) as conn:
        days = {r[0] for r in conn.execute("select (summary ->> 'day') from ops.runs")}
    assert {DAY.isoformat(), (DAY + dt.timedelta(days=1)).isoformat()} <= days
