"""The day's compliance report as files a compliance team can open, mail and attach: one XLSX workbook
(sheets *Summary*, *Orders*, *Attempts*) or the same three tables as three CSV files (UTF-8 with BOM).

The report only reads the marts (``marts.order_compliance`` and ``marts.call_attempts``, the columns an
analyst sees): every rule's result, the verdict, ``is_review_needed`` and the reasons are the marts' values,
copied, never re-evaluated. The summary counts those values. The day's orders are those listed in the day's
manifests (``listed_on``, the date in the manifest's file name), as in the daily flow's summary; the
previous audited day is the latest earlier manifest day the marts hold orders from.

Phone numbers: the analyst marts carry the customer as a keyed pseudonym (``client_pseudonym``) and the
technician's line (``caller_number``) as plain E.164 digits. A file travels further than a database login,
so the report prints neither: orders are named by type and order id, attempts by call id, which is what a
compliance case cites.

Files are named ``callaudit-report_<YYYY-MM-DD>_<prefix>`` (``all`` without a prefix) and written
atomically: each goes to a temporary name in the target folder, then ``os.replace`` puts it in place, so a
re-run of the same day replaces the previous files and a reader never sees half a file. An ``s3://``
destination gets the same files through prefect-aws (one put per object). ``callaudit report`` writes a
report for any day; the daily flow writes the day's XLSX at its end to ``CALLAUDIT_REPORT_DIR`` (unset:
``<state_dir>/reports``).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any

import psycopg
from prefect import task
from prefect.cache_policies import NONE
from psycopg.rows import dict_row

from flows.config import Settings, get_settings
from flows.runtime import IO_RETRIES

FORMATS = ("xlsx", "csv")
RULES = ("branch", "attempts", "gap", "outcome", "duplicate")


@dataclass(frozen=True)
class Column:
    key: str  # the mart's column (or the summary's field)
    header: str  # what the file shows
    width: int = 12  # characters, for the XLSX column
    number_format: str | None = None


ORDER_COLUMNS = (
    Column("order_type", "type", 13),
    Column("offer", "offer", 7),
    Column("order_id", "order id", 14),
    Column("motif", "motif", 26),
    Column("motif_key", "motif key", 12),
    Column("expected_branch", "expected branch", 18),
    Column("ordered_on", "ordered on", 12, "yyyy-mm-dd"),
    Column("suspended_on", "suspended on", 12, "yyyy-mm-dd"),
    Column("attempts", "attempts", 9),
    Column("counted_attempts", "attempts counted", 9),
    Column("min_attempts", "attempts required", 9),
    Column("is_branch_ok", "rule 1 branch", 9),
    Column("is_attempts_ok", "rule 2 attempts", 9),
    Column("is_gap_ok", "rule 3 gap", 9),
    Column("is_outcome_ok", "rule 4 outcome", 9),
    Column("is_duplicate_ok", "no duplicate", 9),
    Column("is_compliant", "compliant", 10),
    Column("is_review_needed", "needs review", 9),
    Column("review_reason", "review reason", 40),
    Column("reasons_text", "reasons", 48),
)

ATTEMPT_COLUMNS = (
    Column("order_type", "type", 13),
    Column("offer", "offer", 7),
    Column("order_id", "order id", 14),
    Column("attempt_number", "attempt", 8),
    Column("call_id", "call id", 12),
    Column("started_at_local", "started (local time)", 19, "yyyy-mm-dd hh:mm:ss"),
    Column("branch", "branch", 18),
    Column("expected_branch", "expected branch", 18),
    Column("is_expected_branch", "from expected branch", 10),
    Column("gap_minutes", "gap (min)", 9, "0.00"),
    Column("is_gap_ok", "gap ok", 8),
    Column("duration_s", "duration (s)", 10, "0.00"),
    Column("outcome", "outcome", 12),
    Column("call_type", "call type", 8),
    Column("is_classification_trusted", "classification trusted", 10),
    Column("is_duplicate", "duplicate", 9),
    Column("duplicate_of_call_id", "duplicate of", 12),
)

SUMMARY_COLUMNS = (
    Column("section", "section", 10),
    Column("name", "name", 24),
    Column("value", "value", 40),
    Column("orders", "orders", 8),
    Column("compliant", "compliant", 10),
    Column("compliant_pct", "compliant %", 10, "0.0"),
    *(Column(f"{rule}_failed", f"{rule} failed", 9) for rule in RULES),
    Column("outcome_pending", "outcome pending", 9),
    Column("needs_review", "needs review", 9),
    Column("previous_orders", "previous day orders", 10),
    Column("previous_compliant_pct", "previous day compliant %", 11, "0.0"),
    Column("change_pts", "change (pts)", 9, "+0.0;-0.0;0.0"),
)

ORDERS_SQL = """
select {columns}
from marts.order_compliance
where listed_on = %(day)s {prefix_filter}
order by order_type, offer, order_id
"""

ATTEMPTS_SQL = """
select {columns}
from marts.call_attempts
where order_key in (
    select order_key from marts.order_compliance where listed_on = %(day)s {prefix_filter}
)
order by order_type, offer, order_id, attempt_number
"""

MODELS_SQL = """
select array_remove(array_agg(distinct asr_model_id), null) as asr,
       array_remove(array_agg(distinct classifier_model), null) as classifier,
       array_remove(array_agg(distinct prompt_version), null) as prompt,
       array_remove(array_agg(distinct detector_version), null) as detector
from marts.call_attempts
where order_key in (
    select order_key from marts.order_compliance where listed_on = %(day)s {prefix_filter}
)
"""

PREVIOUS_DAY_SQL = """
select max(listed_on) from marts.order_compliance where listed_on < %(day)s {prefix_filter}
"""


@dataclass
class Report:
    day: dt.date
    prefixes: list[str] | None
    summary: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    attempts: list[dict[str, Any]]

    def tables(self) -> dict[str, tuple[tuple[Column, ...], list[dict[str, Any]]]]:
        return {
            "Summary": (SUMMARY_COLUMNS, self.summary),
            "Orders": (ORDER_COLUMNS, self.orders),
            "Attempts": (ATTEMPT_COLUMNS, self.attempts),
        }


def prefix_filter(prefixes: list[str] | None) -> tuple[str, dict[str, Any]]:
    """SQL restricting orders to ``TYPE`` or ``TYPE_OFFER`` prefixes, and its parameters."""
    if not prefixes:
        return "", {}
    return "and (order_type = any(%(types)s) or order_type || '_' || offer = any(%(type_offers)s))", {
        "types": [p for p in prefixes if "_" not in p],
        "type_offers": [p for p in prefixes if "_" in p],
    }


def file_stem(day: dt.date, prefixes: list[str] | None) -> str:
    label = "+".join(prefixes) if prefixes else "all"
    return f"callaudit-report_{day.isoformat()}_{re.sub(r'[^A-Za-z0-9_+-]', '-', label)}"


def pipeline_version() -> str:
    try:
        return metadata.version("callaudit")
    except metadata.PackageNotFoundError:
        return "unknown"


def _pct(part: int, whole: int) -> float | None:
    """PostgreSQL's round(100.0 * part / whole, 1), as daily_compliance rounds its compliant_pct."""
    if not whole:
        return None
    return float((Decimal(100) * part / whole).quantize(Decimal("0.1"), rounding="ROUND_HALF_UP"))


def _counts(orders: list[dict[str, Any]]) -> dict[str, Any]:
    """How many of ``orders`` are compliant and how many failed each rule, from the marts' results."""
    return {
        "orders": len(orders),
        "compliant": sum(bool(o["is_compliant"]) for o in orders),
        "compliant_pct": _pct(sum(bool(o["is_compliant"]) for o in orders), len(orders)),
        **{f"{rule}_failed": sum(o[f"is_{rule}_ok"] is False for o in orders) for rule in RULES},
        "outcome_pending": sum(o["is_outcome_ok"] is None for o in orders),
        "needs_review": sum(bool(o["is_review_needed"]) for o in orders),
    }


def _with_previous(row: dict[str, Any], previous: list[dict[str, Any]] | None) -> dict[str, Any]:
    if previous:
        before = _counts(previous)
        row["previous_orders"] = before["orders"]
        row["previous_compliant_pct"] = before["compliant_pct"]
        if row["compliant_pct"] is not None and before["compliant_pct"] is not None:
            row["change_pts"] = round(row["compliant_pct"] - before["compliant_pct"], 1)
    return row


def _group(orders: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for o in orders:
        groups.setdefault(o[key] or "(unknown)", []).append(o)
    return dict(sorted(groups.items()))


def summarize(
    day: dt.date,
    prefixes: list[str] | None,
    orders: list[dict[str, Any]],
    previous_day: dt.date | None,
    previous: list[dict[str, Any]],
    models: dict[str, list[str]],
) -> list[dict[str, Any]]:
    """The Summary table: about rows (day, version, models), then the day's totals, then per expected branch
    and per motif, each with the previous audited day's orders and compliant share when there is one."""

    def about(name: str, value: str) -> dict[str, Any]:
        return {"section": "about", "name": name, "value": value}

    rows = [
        about("day", day.isoformat()),
        about("prefix", ",".join(prefixes) if prefixes else "all"),
        about("previous audited day", previous_day.isoformat() if previous_day else "none"),
        about("callaudit version", pipeline_version()),
        *(about(name, ", ".join(ids) or "none") for name, ids in models.items()),
        _with_previous({"section": "total", "name": "all orders", **_counts(orders)}, previous or None),
    ]
    for section, key in (("branch", "expected_branch"), ("motif", "motif_key")):
        before = _group(previous, key)
        for name, group in _group(orders, key).items():
            row = {"section": section, "name": name, **_counts(group)}
            rows.append(_with_previous(row, before.get(name)))
    return rows


def read_report(database_url: str, day: dt.date, prefixes: list[str] | None = None) -> Report:
    """The day's report, read from the marts."""
    where, params = prefix_filter(prefixes)
    order_keys = [c.key for c in ORDER_COLUMNS]
    attempt_keys = [c.key for c in ATTEMPT_COLUMNS]
    with psycopg.connect(database_url) as conn, conn.cursor(row_factory=dict_row) as cur:

        def select(sql: str, keys: list[str], on: dt.date) -> list[dict[str, Any]]:
            query = sql.format(columns=", ".join(keys), prefix_filter=where)
            return cur.execute(query, {"day": on, **params}).fetchall()

        orders = select(ORDERS_SQL, order_keys, day)
        attempts = select(ATTEMPTS_SQL, attempt_keys, day)
        previous_day = cur.execute(
            PREVIOUS_DAY_SQL.format(prefix_filter=where), {"day": day, **params}
        ).fetchone()
        previous_day = next(iter(previous_day.values())) if previous_day else None
        previous = select(ORDERS_SQL, order_keys, previous_day) if previous_day else []
        models_sql = MODELS_SQL.format(prefix_filter=where)
        found = cur.execute(models_sql, {"day": day, **params})
        asr, classifier, prompt, detector = found.fetchone().values()
    # array_agg over a day without attempts (or without inference yet) is null
    models = {
        "ASR models": sorted(asr or []),
        "classifier models": sorted(classifier or []),
        "prompt versions": sorted(prompt or []),
        "tone detector versions": sorted(detector or []),
    }
    summary = summarize(day, prefixes, orders, previous_day, previous, models)
    return Report(day, prefixes, summary, orders, attempts)


def _atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Write ``path`` through a temporary file in its folder, then rename it over the old one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return value


def _xlsx_value(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def _write_csv(path: Path, columns: Iterable[Column], rows: list[dict[str, Any]]) -> None:
    columns = list(columns)
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow([c.header for c in columns])
        for row in rows:
            writer.writerow([_csv_value(row.get(c.key)) for c in columns])


def _write_xlsx(path: Path, report: Report) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    header_font = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DDE4EE")
    for title, (columns, rows) in report.tables().items():
        sheet = workbook.create_sheet(title)
        sheet.append([c.header for c in columns])
        for cell in sheet[1]:
            cell.font = header_font
            cell.fill = header_fill
        for row in rows:
            sheet.append([_xlsx_value(row.get(c.key)) for c in columns])
        for index, column in enumerate(columns, start=1):
            letter = get_column_letter(index)
            sheet.column_dimensions[letter].width = max(column.width, len(column.header) // 2 + 2)
            if column.number_format:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = column.number_format
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(len(rows) + 1, 1)}"
    workbook.save(path)


def write_report(report: Report, out_dir: Path, fmt: str = "xlsx") -> list[Path]:
    """Write ``report`` into ``out_dir`` as one XLSX or three CSV files; the paths written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r} (one of {', '.join(FORMATS)})")
    out_dir = Path(out_dir).expanduser()
    stem = file_stem(report.day, report.prefixes)
    if fmt == "xlsx":
        return [_atomic_write(out_dir / f"{stem}.xlsx", lambda tmp: _write_xlsx(tmp, report))]
    written = []
    for title, (columns, rows) in report.tables().items():
        path = out_dir / f"{stem}_{title.lower()}.csv"
        written.append(_atomic_write(path, lambda tmp, c=columns, r=rows: _write_csv(tmp, c, r)))
    return written


def publish_report(
    database_url: str,
    day: dt.date,
    prefixes: list[str] | None,
    destination: str | Path,
    fmt: str = "xlsx",
    settings: Settings | None = None,
) -> list[str]:
    """Read the day's report and write it to ``destination``, a folder or ``s3://bucket/prefix`` (through
    prefect-aws; S3 replaces an object in one put, so a reader sees the old file or the new one); the paths
    or URIs written."""
    report = read_report(database_url, day, prefixes)
    target = str(destination)
    if not target.startswith("s3://"):
        return [str(p) for p in write_report(report, Path(target), fmt)]
    from flows.storage import s3_bucket

    bucket, prefix = s3_bucket(target, settings or get_settings())
    with tempfile.TemporaryDirectory(prefix="callaudit-report-") as folder:
        uris = []
        for path in write_report(report, Path(folder), fmt):
            key = f"{prefix}/{path.name}" if prefix else path.name
            bucket.upload_from_path(path, path.name)
            uris.append(f"s3://{bucket.bucket_name}/{key}")
    return uris


@task(name="write-report", cache_policy=NONE, **IO_RETRIES)
def write_day_report(
    database_url: str, day: dt.date, prefixes: list[str] | None, settings: Settings
) -> list[str]:
    """The day's report (XLSX) in the report folder or S3 prefix, replacing an earlier run's."""
    return publish_report(database_url, day, prefixes, settings.report_folder, "xlsx", settings)
