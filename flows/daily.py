"""The daily compliance run: ingest → audio → ASR → redaction → classification → dbt build → GX."""

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
from flows.runtime import current_run_id
from flows.transcribe import transcribe
from flows.transform import dbt_build


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


@task(name="prepare-database", cache_policy=NONE, retries=2, retry_delay_seconds=2)
def prepare_database() -> str:
    """Start the embedded database (or use DATABASE_URL) and apply pending migrations."""
    return ready_database()


@task(name="summarize-verdicts", cache_policy=NONE)
def summarize_verdicts(database_url: str) -> list[VerdictRow]:
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
               from marts.order_compliance group by 1, 2 order by 1, 2"""
        ).fetchall()
    return [VerdictRow(*r) for r in rows]


def summary_markdown(summary: RunSummary) -> str:
    share = f"{100 * summary.compliant / summary.orders:.1f}%" if summary.orders else "n/a"
    lines = [
        f"# Compliance audit of {summary.day}",
        "",
        f"**{summary.orders}** audited orders, **{summary.compliant}** compliant ({share}).",
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
        "",
        f"{summary.rows_inserted} rows inserted, {summary.recordings_analysed} recordings analysed, "
        f"{summary.recordings_transcribed} transcribed, {summary.recordings_redacted} redacted, "
        f"{summary.calls_classified} classified ({summary.classifications_untrusted} untrusted, "
        f"{summary.llm_tokens} LLM tokens), {summary.rejected_now} rejected now "
        f"({summary.rejects_total} in `ops.rejects`), {summary.dbt_nodes} dbt nodes, "
        f"{summary.expectations} expectations passed.",
    ]
    return "\n".join(lines)


@task(name="publish-artifacts", cache_policy=NONE)
def publish_artifacts(database_url: str, summary: RunSummary) -> None:
    """The run's summary and its non-compliant orders, shown on the flow run in the Prefect UI."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    with psycopg.connect(database_url) as conn:
        failing = conn.execute(
            """select order_type, order_id, motif, attempts, reasons_text, expected_branch
               from marts.order_compliance where not compliant order by order_type, order_id limit 1000"""
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


@task(name="record-run", cache_policy=NONE)
def record_run(database_url: str, parameters: dict, summary: RunSummary, state: str) -> None:
    run_id = current_run_id() or f"local-{dt.datetime.now(dt.UTC).isoformat()}"
    with psycopg.connect(database_url) as conn:
        conn.execute(
            """insert into ops.runs (run_id, flow, parameters, finished_at, state, summary)
               values (%s, 'daily-compliance', %s, now(), %s, %s)
               on conflict (run_id) do update set finished_at = now(), state = excluded.state,
                 summary = excluded.summary""",
            [run_id, json.dumps(parameters, default=str), state, json.dumps(asdict(summary), default=str)],
        )


def _count_rejects(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute("select count(*) from ops.rejects").fetchone()[0]


def _resolve_inputs(
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
    manifests, calls, audio = _resolve_inputs(settings, manifests_dir, calls_file, audio_root)
    url = prepare_database()

    loaded = ingest(manifests, calls, audio, day=day, prefixes=prefixes, database_url=url)
    heard = analyse_audio(url, settings)
    transcribed = transcribe(url, settings)
    redacted = redact_transcripts(url, settings)
    classified = classify_calls(url, settings)
    embedded = embed_transcripts(url, settings)
    build = dbt_build(url)
    report = gx_checkpoint(url) if settings.run_gx else None
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
        verdicts=summarize_verdicts(url),
        data_docs=str(report.data_docs) if report and report.data_docs else None,
        ingest=loaded.as_dict(),
    )
    publish_artifacts(url, summary)
    record_run(url, {"date": day, "prefix": prefix}, summary, "Completed")
    logger.info(
        "daily-compliance %s: %d audited orders, %d compliant, %d rows inserted, %d rejects",
        day,
        summary.orders,
        summary.compliant,
        summary.rows_inserted,
        summary.rejects_total,
    )
    return summary
