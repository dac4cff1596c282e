"""The daily compliance run: ingest → infer-calls (audio → ASR → redaction → classification → embeddings)
→ dbt build → GX → verdicts, artifacts and stage telemetry."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from flows.audio import analyse_audio
from flows.classify import classify_calls
from flows.config import Settings, get_settings
from flows.db import ready_database
from flows.embed import embed_transcripts
from flows.ingest import ingest
from flows.quality import gx_checkpoint
from flows.redact import redact_transcripts
from flows.runtime import IO_RETRIES, Shard, current_run_id
from flows.scaleout import make_task_runner, merge_results, shard_count
from flows.telemetry import (
    STAGE_RUN_COLUMNS,
    StageMeter,
    StageTelemetry,
    stage_run_rows,
    telemetry_table,
)
from flows.transcribe import transcribe
from flows.transform import dbt_build

PER_CALL_STAGES = (analyse_audio, transcribe, redact_transcripts, classify_calls, embed_transcripts)


@dataclass
class VerdictRow:
    order_type: str
    offer: str
    orders: int
    compliant: int
    branch_failed: int
    attempts_failed: int
    gap_failed: int
    outcome_failed: int
    outcome_pending: int
    needs_review: int


@dataclass
class BreakdownRow:
    """Verdicts of the day for one branch or one motif."""

    dimension: str  # "branch" or "motif"
    value: str
    orders: int
    compliant: int
    previous_orders: int | None = None  # the same group on the previous audited day
    previous_compliant: int | None = None

    @property
    def share(self) -> float | None:
        return self.compliant / self.orders if self.orders else None

    @property
    def previous_share(self) -> float | None:
        return self.previous_compliant / self.previous_orders if self.previous_orders else None


@dataclass
class RunSummary:
    day: str | None
    prefixes: list[str] | None
    rows_inserted: int
    rejected_now: int
    rejects_total: int
    recordings_analysed: int
    recordings_transcribed: int
    recordings_redacted: int
    calls_classified: int
    classifications_untrusted: int
    llm_tokens: int
    recordings_embedded: int
    dbt_nodes: int
    expectations: int
    verdicts: list[VerdictRow] = field(default_factory=list)
    data_docs: str | None = None
    ingest: dict = field(default_factory=dict)
    breakdown: list[BreakdownRow] = field(default_factory=list)
    previous_day: str | None = None
    previous_orders: int | None = None
    previous_compliant: int | None = None
    stages: list[StageTelemetry] = field(default_factory=list)
    run_id: str | None = None  # the Prefect flow run (or a local id) whose artifacts and ops rows these are
    report_files: list[str] = field(default_factory=list)  # the day's report (flows.report)

    @property
    def orders(self) -> int:
        return sum(v.orders for v in self.verdicts)

    @property
    def compliant(self) -> int:
        return sum(v.compliant for v in self.verdicts)


def yesterday(timezone: str) -> dt.date:
    return dt.datetime.now(ZoneInfo(timezone)).date() - dt.timedelta(days=1)


def parse_prefixes(prefix: str | list[str] | None) -> list[str] | None:
    if prefix is None:
        return None
    items = prefix if isinstance(prefix, list) else prefix.split(",")
    cleaned = [p.strip().upper() for p in items if p and p.strip()]
    return cleaned or None


def day_file_marker(day: dt.date) -> str:
    """What the source file of an order listed for ``day`` contains: ``_<YYYYMMDD>.`` (input contract)."""
    return f"%\\_{day:%Y%m%d}.%"


@task(name="prepare-database", cache_policy=NONE, **IO_RETRIES)
def prepare_database() -> str:
    """Start the embedded database (or use DATABASE_URL) and apply pending migrations."""
    return ready_database()


@task(name="summarize-verdicts", cache_policy=NONE, **IO_RETRIES)
def summarize_verdicts(database_url: str, day: dt.date) -> list[VerdictRow]:
    """The verdicts of the orders listed in ``day``'s manifests, per type and offer."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            """select order_type, offer, count(*)::int,
                      count(*) filter (where compliant)::int,
                      count(*) filter (where not branch_ok)::int,
                      count(*) filter (where not attempts_ok)::int,
                      count(*) filter (where not gap_ok)::int,
                      count(*) filter (where outcome_ok = false)::int,
                      count(*) filter (where outcome_ok is null)::int,
                      count(*) filter (where needs_review)::int
               from marts.order_compliance where source_file like %s group by 1, 2 order by 1, 2""",
            [day_file_marker(day)],
        ).fetchall()
    return [VerdictRow(*r) for r in rows]


def _previous_audit(conn: psycopg.Connection, day: dt.date) -> dt.date | None:
    """The latest audited day before ``day`` that a completed run left verdicts for."""
    row = conn.execute(
        """select max((summary ->> 'day')::date) from ops.runs
           where flow = 'daily-compliance' and state = 'Completed' and (summary ->> 'day')::date < %s""",
        [day],
    ).fetchone()
    return row[0] if row else None


@dataclass
class Breakdown:
    rows: list[BreakdownRow]
    previous_day: dt.date | None
    previous_orders: int | None
    previous_compliant: int | None


@task(name="break-down-verdicts", cache_policy=NONE, **IO_RETRIES)
def break_down_verdicts(database_url: str, day: dt.date) -> Breakdown:
    """Orders and compliant orders per expected branch and per motif, for ``day`` and the audited day
    before it (the marts keep every day's orders; day-over-day compares the two), and the previous day's
    totals (every order has exactly one branch row)."""
    with psycopg.connect(database_url) as conn:
        previous = _previous_audit(conn, day)
        query = """select dimension, value, count(*)::int, count(*) filter (where compliant)::int
                   from marts.order_compliance, lateral (
                       values ('branch', expected_branch), ('motif', motif_key)
                   ) as d(dimension, value)
                   where source_file like %s group by 1, 2 order by 1, 2"""
        today = conn.execute(query, [day_file_marker(day)]).fetchall()
        before = {
            (d, v): (n, ok)
            for d, v, n, ok in (conn.execute(query, [day_file_marker(previous)]) if previous else [])
        }
    rows = [
        BreakdownRow(d, v or "(unknown)", n, ok, *before.get((d, v), (None, None))) for d, v, n, ok in today
    ]
    by_branch = [counts for (dimension, _), counts in before.items() if dimension == "branch"]
    return Breakdown(
        rows,
        previous,
        sum(n for n, _ in by_branch) if previous else None,
        sum(ok for _, ok in by_branch) if previous else None,
    )


def _pct(share: float | None) -> str:
    return "n/a" if share is None else f"{100 * share:.1f}%"


def _delta(now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return "—"
    return f"{100 * (now - before):+.1f} pts"


def summary_markdown(summary: RunSummary) -> str:
    share = summary.compliant / summary.orders if summary.orders else None
    previous = summary.previous_compliant / summary.previous_orders if summary.previous_orders else None
    lines = [
        f"# Compliance audit of {summary.day}",
        "",
        f"**{summary.orders}** audited orders, **{summary.compliant}** compliant ({_pct(share)}).",
    ]
    if summary.previous_day:
        lines.append(
            f"Previous audited day {summary.previous_day}: {summary.previous_compliant} of "
            f"{summary.previous_orders} compliant ({_pct(previous)}), change {_delta(share, previous)}."
        )
    else:
        lines.append("No earlier audited day to compare with.")
    lines += [f"Report: [{Path(f).name}]({f})" for f in summary.report_files]
    lines += [
        "",
        "## Failures per rule",
        "",
        "| type | offer | orders | compliant | branch ✗ | attempts ✗ | gap ✗ | outcome ✗ | outcome pending "
        "| needs review |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        *(
            f"| {v.order_type} | {v.offer} | {v.orders} | {v.compliant} | {v.branch_failed} | "
            f"{v.attempts_failed} | {v.gap_failed} | {v.outcome_failed} | {v.outcome_pending} | "
            f"{v.needs_review} |"
            for v in summary.verdicts
        ),
    ]
    for dimension, title in (("branch", "Per branch"), ("motif", "Per motif")):
        rows = [b for b in summary.breakdown if b.dimension == dimension]
        if not rows:
            continue
        lines += [
            "",
            f"## {title}",
            "",
            f"| {dimension} | orders | compliant | compliant % | previous day | change |",
            "|---|---:|---:|---:|---:|---:|",
            *(
                f"| {b.value} | {b.orders} | {b.compliant} | {_pct(b.share)} | {_pct(b.previous_share)} | "
                f"{_delta(b.share, b.previous_share)} |"
                for b in rows
            ),
        ]
    lines += [
        "",
        "## Stages",
        "",
        "| stage | items | errors | seconds | items/s | p95 latency (s) |",
        "|---|---:|---:|---:|---:|---:|",
        *(
            f"| {t['stage']} | {t['items']} | {t['errors']} | {t['seconds']} | {t['items/s']} | "
            f"{t['p95 latency (s)']} |"
            for t in telemetry_table(summary.stages)
        ),
        "",
        f"{summary.rows_inserted} rows inserted, {summary.recordings_analysed} recordings analysed, "
        f"{summary.recordings_transcribed} transcribed, {summary.recordings_redacted} redacted, "
        f"{summary.calls_classified} classified ({summary.classifications_untrusted} untrusted, "
        f"{summary.llm_tokens} LLM tokens), {summary.rejected_now} rejected now "
        f"({summary.rejects_total} in `ops.rejects`), {summary.dbt_nodes} dbt nodes, "
        f"{summary.expectations} expectations passed.",
    ]
    return "\n".join(lines)


@task(name="write-report", cache_policy=NONE, **IO_RETRIES)
def write_day_report(
    database_url: str, day: dt.date, prefixes: list[str] | None, settings: Settings
) -> list[str]:
    """The day's report (XLSX) in the report folder or S3 prefix, replacing an earlier run's."""
    from flows.report import publish_report

    return publish_report(database_url, day, prefixes, settings.report_folder, "xlsx", settings)


@task(name="publish-artifacts", cache_policy=NONE, **IO_RETRIES)
def publish_artifacts(database_url: str, summary: RunSummary) -> None:
    """The run's summary, its non-compliant orders and its stage telemetry, on the flow run in the UI."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    with psycopg.connect(database_url) as conn:
        failing = conn.execute(
            """select order_type, order_id, motif, attempts, reasons_text, expected_branch
               from marts.order_compliance where not compliant and source_file like %s
               order by order_type, order_id limit 1000""",
            [day_file_marker(dt.date.fromisoformat(summary.day))],
        ).fetchall()
    create_markdown_artifact(
        key="daily-compliance-summary", markdown=summary_markdown(summary), description="Verdicts of the run"
    )
    create_table_artifact(
        key="non-compliant-orders",
        table=[
            {"type": t, "order": o, "motif": m, "attempts": a, "failed rules": r, "expected branch": b}
            for t, o, m, a, r, b in failing
        ],
        description="Orders whose suspension did not follow the protocol, with the failed rules",
    )
    create_table_artifact(
        key="stage-telemetry",
        table=telemetry_table(summary.stages),
        description="Items, seconds, throughput, errors and latency per item of each stage (ops.stage_runs)",
    )


@task(name="record-stage-runs", cache_policy=NONE, **IO_RETRIES)
def record_stage_runs(database_url: str, run_id: str, day: dt.date, stages: list[StageTelemetry]) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute("delete from ops.stage_runs where run_id = %s", [run_id])  # a retried task
        with conn.cursor() as cur:
            cur.executemany(
                f"insert into ops.stage_runs ({', '.join(STAGE_RUN_COLUMNS)}) "
                f"values ({', '.join(['%s'] * len(STAGE_RUN_COLUMNS))})",
                stage_run_rows(run_id, "daily-compliance", day, stages),
            )


@task(name="record-run", cache_policy=NONE, **IO_RETRIES)
def record_run(database_url: str, run_id: str, parameters: dict, summary: RunSummary, state: str) -> None:
    record = asdict(summary)
    record.update(orders=summary.orders, compliant=summary.compliant)
    record["stages"] = [t.as_dict() for t in summary.stages]
    with psycopg.connect(database_url) as conn:
        conn.execute(
            """insert into ops.runs (run_id, flow, parameters, finished_at, state, summary)
               values (%s, 'daily-compliance', %s, now(), %s, %s)
               on conflict (run_id) do update set finished_at = now(), state = excluded.state,
                 summary = excluded.summary""",
            [run_id, json.dumps(parameters, default=str), state, json.dumps(record, default=str)],
        )


def _count_rejects(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute("select count(*) from ops.rejects").fetchone()[0]


def resolve_inputs(
    settings: Settings, manifests_dir: str | None, calls_file: str | None, audio_root: str | None
) -> tuple[Path, Path, str]:
    manifests = manifests_dir or settings.manifests_dir
    calls = calls_file or settings.calls_file
    audio = audio_root or settings.audio_root
    missing = [
        name
        for name, value in (
            ("CALLAUDIT_MANIFESTS_DIR", manifests),
            ("CALLAUDIT_CALLS_FILE", calls),
            ("CALLAUDIT_AUDIO_ROOT", audio),
        )
        if not value
    ]
    if missing:
        raise ValueError(f"set {', '.join(missing)} (or pass them as parameters) to say where the inputs are")
    if not Path(manifests).is_dir():
        raise FileNotFoundError(
            f"manifests folder {manifests} does not exist (--manifests / CALLAUDIT_MANIFESTS_DIR)"
        )
    if not Path(calls).is_file():
        raise FileNotFoundError(f"call records file {calls} does not exist (--calls / CALLAUDIT_CALLS_FILE)")
    if not str(audio).startswith("s3://") and not Path(audio).is_dir():
        raise FileNotFoundError(f"audio root {audio} is not a folder (--audio-root / CALLAUDIT_AUDIO_ROOT)")
    return Path(manifests), Path(calls), str(audio)


@flow(name="infer-calls", log_prints=True)
def infer_calls(database_url: str, settings: Settings, shards: int) -> list:
    """The per-call stages in order, each as ``shards`` tasks side by side on the configured task runner
    (audio analysis → transcription → redaction → classification → embeddings)."""
    merged = []
    for stage in PER_CALL_STAGES:
        futures = [stage.submit(database_url, settings, Shard(i, shards)) for i in range(shards)]
        merged.append(merge_results([f.result() for f in futures]))
    return merged


def _timed(meter: StageMeter, items: int, errors: int = 0, latencies=()) -> StageTelemetry:
    """The telemetry of a stage that reports its counts at the end (ingest, dbt, GX)."""
    meter.items, meter.errors, meter.latencies = items, errors, list(latencies)
    return meter.done()


@flow(name="asr-backlog", log_prints=True)
def asr_backlog() -> dict:
    """Audio analysis and transcription of every recording not yet done (the GPU pool's deployment)."""
    settings = get_settings()
    url = prepare_database()
    heard = analyse_audio(url, settings)
    transcribed = transcribe(url, settings)
    return {"analysed": heard.processed, "transcribed": transcribed.processed}


@flow(name="daily-compliance", log_prints=True)
def daily_compliance(
    date: dt.date | None = None,
    prefix: str | None = None,
    manifests_dir: str | None = None,
    calls_file: str | None = None,
    audio_root: str | None = None,
) -> RunSummary:
    """Audit the suspended orders of ``date`` (default: yesterday) for ``prefix`` (default: all).

    ``prefix`` selects manifests by ``<TYPE>_<OFFER>`` (e.g. ``SAV`` or ``SAV_ADSL,ACQUISITION_VULA``).
    """
    logger = get_run_logger()
    settings = get_settings()
    day = date or yesterday(settings.timezone)
    prefixes = parse_prefixes(prefix)
    manifests, calls, audio = resolve_inputs(settings, manifests_dir, calls_file, audio_root)
    run_id = current_run_id() or f"local-{dt.datetime.now(dt.UTC).isoformat()}"
    url = prepare_database()

    meter = StageMeter("ingest")
    loaded = ingest(manifests, calls, audio, day=day, prefixes=prefixes, database_url=url)
    ingest_telemetry = _timed(meter, loaded.rows_inserted, loaded.rejected)

    shards = shard_count(settings)
    runner = make_task_runner(settings)
    heard, transcribed, redacted, classified, embedded = infer_calls.with_options(task_runner=runner)(
        url, settings, shards
    )

    meter = StageMeter("dbt build")
    build = dbt_build(url)
    dbt_telemetry = _timed(meter, build.nodes, latencies=build.node_seconds)
    report = None
    stages = [ingest_telemetry, *(r.telemetry for r in (heard, transcribed, redacted, classified, embedded))]
    stages.append(dbt_telemetry)
    if settings.run_gx:
        meter = StageMeter("expectations")
        report = gx_checkpoint(url)
        stages.append(_timed(meter, report.evaluated, len(report.failures)))
    breakdown = break_down_verdicts(url, day)
    summary = RunSummary(
        day=day.isoformat(),
        prefixes=prefixes,
        rows_inserted=loaded.rows_inserted,
        rejected_now=loaded.rejected,
        rejects_total=_count_rejects(url),
        recordings_analysed=heard.processed,
        recordings_transcribed=transcribed.processed,
        recordings_redacted=redacted.processed,
        calls_classified=classified.processed,
        classifications_untrusted=classified.untrusted,
        llm_tokens=classified.tokens,
        recordings_embedded=embedded.processed,
        dbt_nodes=build.nodes,
        expectations=report.evaluated if report else 0,
        verdicts=summarize_verdicts(url, day),
        data_docs=str(report.data_docs) if report and report.data_docs else None,
        ingest=loaded.as_dict(),
        breakdown=breakdown.rows,
        previous_day=breakdown.previous_day.isoformat() if breakdown.previous_day else None,
        previous_orders=breakdown.previous_orders,
        previous_compliant=breakdown.previous_compliant,
        stages=[t for t in stages if t is not None],
        run_id=run_id,
    )
    record_stage_runs(url, run_id, day, summary.stages)
    summary.report_files = write_day_report(url, day, prefixes, settings)
    publish_artifacts(url, summary)
    record_run(url, run_id, {"date": day, "prefix": prefix}, summary, "Completed")
    logger.info(
        "daily-compliance %s: %d audited orders, %d compliant, %d rows inserted, %d rejects",
        day,
        summary.orders,
        summary.compliant,
        summary.rows_inserted,
        summary.rejects_total,
    )
    return summary
