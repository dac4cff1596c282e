"""Scale-out and operations on real parts: the Dask task runner on a local cluster of 2 workers makes the
same per-call results as the default threads (on a subset of the shared warehouse's recordings); a backfill
runs its days as subflows side by side without double work; every run leaves its stage telemetry in
ops.stage_runs and its artifacts in Prefect."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.conftest import DAY, Warehouse, clone_database

pytestmark = pytest.mark.usefixtures("prefect_api")

PER_CALL_TABLES = {
    "raw.audio_analysis": "sha256",
    "raw.transcripts": "sha256, channel",
    "raw.redacted_transcripts": "sha256, channel",
    "raw.classifications": "sha256",
    "raw.transcript_embeddings": "sha256",
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


# What the per-call stages write, each row without its timestamp, in a stable order (compared across runners).
STAGE_ROWS = {
    "raw.audio_analysis": """select sha256, detector_version, outcome, outcome_confidence, ring_bursts,
                                    voicemail_beeps, sit_tones, speech_onset_s, speech_s, agent_speech_s,
                                    customer_speech_s
                             from raw.audio_analysis""",
    "raw.audio_tones": """select sha256, detector_version, kind, start_s, end_s, frequency_hz
                          from raw.audio_tones""",
    "raw.speech_segments": """select sha256, detector_version, channel, start_s, end_s
                              from raw.speech_segments""",
    "raw.transcripts": """select sha256, model_id, chunking_id, channel, call_id, text, confidence, segments
                          from raw.transcripts""",
    "raw.transcript_segments": """select sha256, model_id, chunking_id, channel, segment_index, start_s,
                                         end_s, text, confidence
                                  from raw.transcript_segments""",
    "raw.redacted_transcripts": """select sha256, asr_model_id, chunking_id, channel, redactor_version,
                                          call_id, text, entities, entity_types
                                   from raw.redacted_transcripts""",
    "raw.classifications": """select sha256, model, prompt_version, request_key, call_id, call_type, behavior,
                                     sentiment, summary, action_items, is_trusted, call_type_confidence
                              from raw.classifications""",
    "raw.transcript_embeddings": """select sha256, model, text_hash, call_id, dimension, embedding::text
                                    from raw.transcript_embeddings""",
}
SUBSET_SPOKEN, SUBSET_SILENT = 4, 2  # recordings with speech (every stage), without (audio analysis only)


def stage_rows(url: str, keys: list[str]) -> dict[str, list[tuple]]:
    """Every per-call row of the recordings ``keys`` (sha256s), in a stable order; an embedding as the
    tuple of its components."""

    def plain(value):
        if isinstance(value, str) and value.startswith("[") and value.endswith("]"):
            return tuple(float(x) for x in value[1:-1].split(","))
        return value

    with psycopg.connect(url) as conn:
        return {
            table: sorted(
                (
                    tuple(plain(v) for v in row)
                    for row in conn.execute(f"{sql} where sha256 = any(%s)", [keys])
                ),
                key=lambda row: repr(row[:5]),
            )
            for table, sql in STAGE_ROWS.items()
        }


def differences(a: dict[str, list[tuple]], b: dict[str, list[tuple]], tolerance: float = 1e-4) -> list:
    """The rows that differ between two ``stage_rows``: text, counts and labels exactly, numbers within
    ``tolerance`` (a worker process's model may differ from another's in the last bits of a float)."""

    def same(x, y) -> bool:
        if isinstance(x, tuple) and isinstance(y, tuple):
            return len(x) == len(y) and all(same(i, j) for i, j in zip(x, y, strict=True))
        if isinstance(x, float) and isinstance(y, float):
            return abs(x - y) <= tolerance
        return x == y

    found = []
    for table in STAGE_ROWS:
        if len(a[table]) != len(b[table]):
            found.append((table, len(a[table]), len(b[table])))
            continue
        found += [(table, x, y) for x, y in zip(a[table], b[table], strict=True) if not same(x, y)]
    return found


@dataclass(frozen=True)
class DaskInference:
    """The inference subflow on the Dask runner over a subset of the warehouse's recordings."""

    url: str  # a copy of the warehouse whose subset's per-call rows were removed, then made again
    recordings: list[str]
    spoken: list[str]
    results: list  # the merged StageResult of each per-call stage, in order


@pytest.fixture(scope="module")
def dask_run(threads_run, server_url: str, warehouse: Warehouse) -> DaskInference:
    """The per-call stages (the ``infer-calls`` subflow, the only part a task runner changes) through the
    Dask task runner (a local cluster of 2 worker processes, 2 shards) on a small subset of the recordings
    the threads runner analysed for the shared warehouse: on a copy of it, the subset's per-call rows are
    removed, so that the Dask run makes them again."""
    from pydantic import SecretStr

    from flows.config import get_settings
    from flows.daily import infer_calls
    from flows.scaleout import make_task_runner, shard_count

    url = clone_database(server_url, warehouse.url, "t_dask")
    with psycopg.connect(url) as conn:
        spoken = [
            r[0]
            for r in conn.execute(
                "select distinct sha256 from raw.transcripts order by 1 limit %s", [SUBSET_SPOKEN]
            )
        ]
        silent = [
            r[0]
            for r in conn.execute(
                """select sha256 from raw.audio_analysis a where speech_onset_s is null
                   and not exists (select 1 from ops.rejects r where r.source_kind = 'audio_analysis'
                                   and r.source in (select audio_path from raw.audio_files f
                                                    where f.sha256 = a.sha256))
                   order by 1 limit %s""",
                [SUBSET_SILENT],
            )
        ]
        recordings = spoken + silent
        for table in reversed(list(STAGE_ROWS)):
            conn.execute(f"delete from {table} where sha256 = any(%s)", [recordings])
    mp = pytest.MonkeyPatch()
    mp.setenv("CALLAUDIT_TASK_RUNNER", "dask")
    mp.setenv("CALLAUDIT_DASK_WORKERS", "2")
    try:
        settings = get_settings()
        results = infer_calls.with_options(task_runner=make_task_runner(settings))(
            SecretStr(url), shard_count(settings)
        )
    finally:
        mp.undo()
    return DaskInference(url, recordings, spoken, results)


def test_dask_runner_on_two_workers_gives_the_same_per_call_results(threads_run, dask_run, database_url):
    heard, transcribed, redacted, classified, embedded = dask_run.results
    assert len(dask_run.spoken) == SUBSET_SPOKEN and len(dask_run.recordings) == SUBSET_SPOKEN + SUBSET_SILENT
    assert heard.processed == len(dask_run.recordings)
    assert transcribed.processed == redacted.processed == len(dask_run.spoken)
    assert classified.processed == embedded.processed == len(dask_run.spoken)
    threads, dask = (
        stage_rows(database_url, dask_run.recordings),
        stage_rows(dask_run.url, dask_run.recordings),
    )
    assert all(threads[t] for t in STAGE_ROWS), {t: len(rows) for t, rows in threads.items()}
    assert not differences(dask, threads), differences(dask, threads)[:3]


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
    transcribed = dask_run.results[1]
    assert transcribed.telemetry.detail.get("shards") == 2
    assert transcribed.telemetry.items == transcribed.processed > 0


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
