"""What a daily run reports: the verdicts of its day per type and offer, branch and motif (with the
previous audited day beside them), its markdown summary and table artifacts in the Prefect UI, and its
rows in ``ops.runs`` / ``ops.stage_runs``. The flow composes; this module reports."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psycopg
from prefect import task
from prefect.cache_policies import NONE

from flows.runtime import IO_RETRIES
from flows.telemetry import STAGE_RUN_COLUMNS, StageTelemetry, stage_run_rows, telemetry_table


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


@task(name="summarize-verdicts", cache_policy=NONE, **IO_RETRIES)
def summarize_verdicts(database_url: str, day: dt.date) -> list[VerdictRow]:
    """The verdicts of the orders listed in ``day``'s manifests, per type and offer: the dashboard mart's
    rows of that day (marts.daily_compliance), added up."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            """select order_type, offer, sum(orders)::int, sum(compliant_orders)::int,
                      sum(branch_failed_orders)::int, sum(attempts_failed_orders)::int,
                      sum(gap_failed_orders)::int, sum(outcome_failed_orders)::int,
                      sum(outcome_pending_orders)::int, sum(needs_review_orders)::int
               from marts.daily_compliance where listed_on = %s group by 1, 2 order by 1, 2""",
            [day],
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
        query = """select dimension, value, sum(orders)::int, sum(compliant_orders)::int
                   from marts.daily_compliance, lateral (
                       values ('branch', expected_branch), ('motif', motif_key)
                   ) as d(dimension, value)
                   where listed_on = %s group by 1, 2 order by 1, 2"""
        today = conn.execute(query, [day]).fetchall()
        before = {(d, v): (n, ok) for d, v, n, ok in (conn.execute(query, [previous]) if previous else [])}
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


@task(name="publish-artifacts", cache_policy=NONE, **IO_RETRIES)
def publish_artifacts(database_url: str, summary: RunSummary) -> None:
    """The run's summary, its non-compliant orders and its stage telemetry, on the flow run in the UI."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    with psycopg.connect(database_url) as conn:
        failing = conn.execute(
            """select order_type, order_id, motif, attempts, reasons_text, expected_branch
               from marts.order_compliance where not is_compliant and listed_on = %s
               order by order_type, order_id limit 1000""",
            [dt.date.fromisoformat(summary.day)],
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


def count_rejects(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute("select count(*) from ops.rejects").fetchone()[0]
