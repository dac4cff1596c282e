"""The day's compliance report on the real pipeline's output: synthetic inputs → Prefect daily flow → dbt →
``callaudit report`` → an XLSX read back with openpyxl and CSVs read back with csv, row for row against the
marts."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from flows.report import (
    ATTEMPT_COLUMNS,
    ORDER_COLUMNS,
    SUMMARY_COLUMNS,
    _counts,
    read_report,
    summarize,
    write_report,
)
from tests.conftest import DAY, Warehouse
from tests.test_s3 import s3_endpoint  # noqa: F401  (moto's S3 server, module-scoped)

pytestmark = pytest.mark.usefixtures("prefect_api")

MARKER = f"%\\_{DAY:%Y%m%d}.%"


@pytest.fixture(scope="module")
def database_url(warehouse_url: str) -> str:
    """The session's shared warehouse, read-only."""
    return warehouse_url


@pytest.fixture(scope="module")
def daily_run(warehouse: Warehouse):
    """The cold daily run on the session's synth set that built the warehouse (and wrote its report)."""
    return warehouse.run


def rows(url: str, sql: str, params: list | None = None) -> list[dict]:
    with psycopg.connect(url) as conn, conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def marts(daily_run, database_url: str) -> dict[str, list[dict]]:
    """The day's rows as the marts hold them, read independently of flows.report."""
    orders = rows(
        database_url,
        "select * from marts.order_compliance where source_file like %s order by order_type, offer, order_id",
        [MARKER],
    )
    keys = [o["order_key"] for o in orders]
    attempts = rows(
        database_url,
        """select * from marts.call_attempts where order_key = any(%s)
           order by order_type, offer, order_id, attempt_number""",
        [keys],
    )
    return {"orders": orders, "attempts": attempts}


@pytest.fixture(scope="module")
def xlsx(daily_run, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    (path,) = write_report(read_report(database_url, DAY), tmp_path_factory.mktemp("xlsx"), "xlsx")
    return path


def sheet_rows(path: Path, title: str) -> tuple[list, list[dict]]:
    from openpyxl import load_workbook

    sheet = load_workbook(path)[title]
    values = list(sheet.iter_rows(values_only=True))
    header = list(values[0])
    return header, [dict(zip(header, r, strict=True)) for r in values[1:]]


def cell(value):
    """What openpyxl reads back for a mart's value: numerics as floats, dates as datetimes, "" as empty."""
    if value == "":
        return None
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time())
    return value


def expected(columns, row: dict) -> dict:
    return {c.header: cell(row[c.key]) for c in columns}


def test_orders_sheet_is_order_compliance_of_the_day(xlsx: Path, marts: dict) -> None:
    header, got = sheet_rows(xlsx, "Orders")
    assert header == [c.header for c in ORDER_COLUMNS]
    assert len(marts["orders"]) >= 30  # the 40-order data set's audited orders
    assert got == [expected(ORDER_COLUMNS, o) for o in marts["orders"]]
    # real dates (openpyxl reads a date cell back as a datetime), rule results as booleans or empty
    assert all(isinstance(r["suspended on"], dt.datetime) for r in got)
    assert all(
        r["suspended on"].date() == o["suspended_on"] for r, o in zip(got, marts["orders"], strict=True)
    )
    assert {r["rule 4 outcome"] for r in got} <= {True, False, None}
    assert any(not r["compliant"] for r in got) and any(r["reasons"] for r in got)


def test_attempts_sheet_is_every_attempt_of_the_days_orders(
    xlsx: Path, marts: dict, database_url: str
) -> None:
    header, got = sheet_rows(xlsx, "Attempts")
    assert header == [c.header for c in ATTEMPT_COLUMNS]
    assert len(got) == len(marts["attempts"]) > len(marts["orders"])
    assert got == [expected(ATTEMPT_COLUMNS, a) for a in marts["attempts"]]
    assert all(isinstance(r["started (local time)"], dt.datetime) for r in got)
    assert any(r["duplicate of"] for r in got)  # the data set plants duplicate recordings
    # no phone number travels in the report
    clients = {r["client_number"] for r in rows(database_url, "select client_number from raw.manifest_rows")}
    numbers = {a["caller_number"] for a in marts["attempts"]} | clients
    from openpyxl import load_workbook

    cells = {str(c) for ws in load_workbook(xlsx) for r in ws.iter_rows(values_only=True) for c in r}
    assert not numbers & cells


def test_summary_counts_the_marts_results(xlsx: Path, marts: dict, database_url: str) -> None:
    header, got = sheet_rows(xlsx, "Summary")
    assert header == [c.header for c in SUMMARY_COLUMNS]
    orders = marts["orders"]
    about = {r["name"]: r["value"] for r in got if r["section"] == "about"}
    assert about["day"] == DAY.isoformat() and about["previous audited day"] == "none"
    assert about["ASR models"] == ", ".join(sorted({a["asr_model_id"] for a in marts["attempts"]} - {None}))
    assert about["classifier models"] == ", ".join(
        sorted({a["classifier_model"] for a in marts["attempts"]} - {None})
    )
    (total,) = [r for r in got if r["section"] == "total"]
    assert total["orders"] == len(orders)
    assert total["compliant"] == sum(o["is_compliant"] for o in orders)
    assert total["gap failed"] == sum(not o["is_gap_ok"] for o in orders)
    assert total["outcome failed"] == sum(o["is_outcome_ok"] is False for o in orders)
    assert total["needs review"] == sum(o["is_review_needed"] for o in orders)
    assert total["previous day orders"] is None and total["change (pts)"] is None
    # per branch and per motif: the same figures as the dashboards' mart for that day
    daily = rows(database_url, "select * from marts.daily_compliance where suspended_on = %s", [DAY])
    for section, key in (("branch", "expected_branch"), ("motif", "motif_key")):
        want: dict[str, Counter] = {}
        for d in daily:
            c = want.setdefault(d[key], Counter())
            for field in (
                "orders",
                "compliant_orders",
                "branch_failed_orders",
                "attempts_failed_orders",
                "gap_failed_orders",
                "outcome_failed_orders",
                "needs_review_orders",
            ):
                c[field] += d[field]
        mine = {r["name"]: r for r in got if r["section"] == section}
        assert set(mine) == set(want)
        for name, c in want.items():
            r = mine[name]
            assert (
                r["orders"],
                r["compliant"],
                r["branch failed"],
                r["attempts failed"],
                r["gap failed"],
                r["outcome failed"],
                r["needs review"],
            ) == (
                c["orders"],
                c["compliant_orders"],
                c["branch_failed_orders"],
                c["attempts_failed_orders"],
                c["gap_failed_orders"],
                c["outcome_failed_orders"],
                c["needs_review_orders"],
            )


def test_sheets_have_frozen_headers_filters_and_widths(xlsx: Path, marts: dict) -> None:
    from openpyxl import load_workbook

    book = load_workbook(xlsx)
    assert book.sheetnames == ["Summary", "Orders", "Attempts"]
    for sheet in book:
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}{sheet.max_row}"
        assert sheet.column_dimensions["A"].width >= 10
    assert book["Orders"].max_row == len(marts["orders"]) + 1
    assert book["Attempts"]["F2"].number_format == "yyyy-mm-dd hh:mm:ss"


def test_csv_files_hold_the_same_tables_with_a_bom(
    daily_run, database_url: str, tmp_path: Path, xlsx: Path
) -> None:
    paths = write_report(read_report(database_url, DAY), tmp_path, "csv")
    assert [p.name for p in paths] == [
        f"callaudit-report_{DAY.isoformat()}_all_{t}.csv" for t in ("summary", "orders", "attempts")
    ]
    for path, title in zip(paths, ("Summary", "Orders", "Attempts"), strict=True):
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")
        with open(path, newline="", encoding="utf-8-sig") as fh:
            got = list(csv.DictReader(fh))
        _, sheet = sheet_rows(xlsx, title)
        assert len(got) == len(sheet)
        for c, s in zip(got, sheet, strict=True):
            for header, value in s.items():
                if value is None:
                    assert c[header] == ""
                elif isinstance(value, bool):
                    assert c[header] == str(value).lower()
                elif isinstance(value, dt.datetime) and title == "Orders":
                    assert c[header] == value.date().isoformat()
                elif isinstance(value, dt.datetime):
                    assert dt.datetime.fromisoformat(c[header]) == value
                elif isinstance(value, int | float):  # openpyxl reads 10.0 back as 10
                    assert float(c[header]) == pytest.approx(value)
                else:
                    assert c[header] == str(value)


def test_a_rerun_replaces_the_files_and_leaves_no_temporary_file(
    daily_run, database_url: str, tmp_path: Path
) -> None:
    report = read_report(database_url, DAY, ["SAV"])
    assert report.orders and {o["order_type"] for o in report.orders} == {"SAV"}
    (first,) = write_report(report, tmp_path, "xlsx")
    assert first.name == f"callaudit-report_{DAY.isoformat()}_SAV.xlsx"
    first.write_bytes(b"stale")
    (second,) = write_report(report, tmp_path, "xlsx")
    assert second == first and second.read_bytes()[:2] == b"PK"  # a zip again, not the stale bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.name]


def test_cli_prints_the_paths_written(daily_run, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from cli.main import main

    assert main(["report", "--date", DAY.isoformat(), "--format", "csv", "--out", str(tmp_path)]) == 0
    printed = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert sorted(printed) == sorted(str(p) for p in tmp_path.iterdir())
    assert len(printed) == 3 and all(Path(p).exists() for p in printed)


def test_change_against_the_previous_day_comes_from_that_days_results() -> None:
    def order(compliant: bool, branch: str) -> dict:
        return {
            "is_compliant": compliant,
            "is_review_needed": False,
            "expected_branch": branch,
            "motif_key": "absent",
            **{f"is_{r}_ok": compliant for r in ("branch", "attempts", "gap", "outcome", "duplicate")},
        }

    today = [order(True, "ADSL_SAV"), order(True, "ADSL_SAV"), order(False, "ADSL_SAV")]
    before = [order(True, "ADSL_SAV"), order(False, "ADSL_SAV"), order(False, "FTTH_VULA_SAV")]
    got = summarize(DAY, None, today, DAY - dt.timedelta(days=1), before, {})
    (total,) = [r for r in got if r["section"] == "total"]
    assert total["compliant_pct"] == 66.7 and total["previous_compliant_pct"] == 33.3
    assert total["change_pts"] == 33.4 and total["previous_orders"] == 3
    (branch,) = [r for r in got if r["section"] == "branch"]
    assert branch["previous_orders"] == 2 and branch["change_pts"] == pytest.approx(16.7)
    assert _counts(today)["branch_failed"] == 1


def test_the_daily_flow_writes_the_report_and_links_it(daily_run, xlsx: Path) -> None:
    from flows.config import get_settings
    from flows.run_summary import summary_markdown

    path = get_settings().state_dir / "reports" / xlsx.name
    assert daily_run.report_files == [str(path)]
    for title in ("Orders", "Attempts"):
        assert sheet_rows(path, title) == sheet_rows(xlsx, title)
    assert f"Report: [{xlsx.name}]({path})" in summary_markdown(daily_run)


def test_the_report_goes_to_s3_through_prefect_aws(
    daily_run,
    database_url: str,
    s3_endpoint: str,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import boto3

    from flows.report import publish_report

    credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    for key, value in {
        "CALLAUDIT_S3_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **credentials)
    client.create_bucket(Bucket="compliance")
    uris = publish_report(database_url, DAY, None, "s3://compliance/reports/daily", "csv")
    names = [f"callaudit-report_{DAY.isoformat()}_all_{t}.csv" for t in ("summary", "orders", "attempts")]
    assert uris == [f"s3://compliance/reports/daily/{n}" for n in names]
    listed = client.list_objects_v2(Bucket="compliance")["Contents"]
    assert sorted(o["Key"] for o in listed) == sorted(f"reports/daily/{n}" for n in names)
    local = write_report(read_report(database_url, DAY), tmp_path, "csv")
    for name, path in zip(names, local, strict=True):
        body = client.get_object(Bucket="compliance", Key=f"reports/daily/{name}")["Body"].read()
        assert body.startswith(b"\xef\xbb\xbf") and body == path.read_bytes()


def test_a_day_without_orders_gets_an_empty_report_not_an_error(
    daily_run, database_url: str, tmp_path: Path
) -> None:
    """A backfill day with no manifest rows (or none audited yet) still gets its report: no orders, no
    attempts, no models."""
    empty_day = DAY + dt.timedelta(days=1)
    report = read_report(database_url, empty_day)
    assert report.orders == [] and report.attempts == []
    about = {row["name"]: row["value"] for row in report.summary if row["section"] == "about"}
    assert about["ASR models"] == about["classifier models"] == "none"
    [path] = write_report(report, tmp_path, "xlsx")
    assert path.exists() and f"{empty_day:%Y-%m-%d}" in path.name
