"""What the ``callaudit`` command prints: the consoles, the verdict table of a run, where to look next."""

from __future__ import annotations

import shutil

from rich.console import Console
from rich.table import Table

# Wide enough for the verdict table when the output is a file or a CI log.
console = Console(width=max(shutil.get_terminal_size((120, 24)).columns, 110))
err_console = Console(stderr=True, width=console.width)  # messages beside output meant for a pipe


def print_summary(summary, elapsed: float) -> None:
    table = Table(title=f"Verdicts for {summary.day} — {summary.orders} audited orders")
    columns = (
        "type",
        "offer",
        "orders",
        "ok",
        "branch✗",
        "attempts✗",
        "gap✗",
        "outcome✗",
        "pending",
        "review",
    )
    for column in columns:
        table.add_column(column, justify="left" if column in ("type", "offer") else "right")
    for v in summary.verdicts:
        table.add_row(
            v.order_type,
            v.offer,
            str(v.orders),
            str(v.compliant),
            str(v.branch_failed),
            str(v.attempts_failed),
            str(v.gap_failed),
            str(v.outcome_failed),
            str(v.outcome_pending),
            str(v.needs_review),
        )
    console.print(table)
    console.print(
        f"{summary.rows_inserted} rows inserted, {summary.recordings_analysed} recordings analysed, "
        f"{summary.recordings_transcribed} transcribed, {summary.recordings_redacted} redacted, "
        f"{summary.calls_classified} classified ({summary.classifications_untrusted} untrusted), "
        f"{summary.rejected_now} rejected now "
        f"({summary.rejects_total} in ops.rejects), {summary.dbt_nodes} dbt nodes, "
        f"{summary.expectations} expectations passed, {elapsed:.0f} s"
    )


def print_report(summary) -> None:
    for path in summary.report_files:
        console.print(f"report: {path}")


def where_next() -> None:
    console.print("\n[bold]Where to look next[/]")
    console.print("  callaudit db psql                       SQL on the warehouse, e.g.")
    console.print(
        "     select order_id, motif, attempts, reasons from marts.order_compliance where not is_compliant;"
    )
    console.print("     select * from ops.rejects;            what was quarantined, and why")
    console.print(
        "  callaudit ui                            the Prefect UI with every run (http://127.0.0.1:4200)"
    )
    console.print(
        "  callaudit docs --serve                  dbt docs + Great Expectations Data Docs, offline"
    )
    console.print("  callaudit serve                         deployments, schedules, on-arrival and a worker")
    from flows.config import get_settings

    console.print(f"  {get_settings().log_file}   every log line of the run (callaudit -v prints them)")
