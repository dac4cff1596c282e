"""The input contract: file names and headers (Python), and each cell's type and reason (the SQL functions of
sql/015_contract_functions.sql, run on the embedded PostgreSQL as the loaders run them)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import psycopg
import pytest

from flows.landing import cell_text, typing_session
from inference.contract import ContractError, fold, map_headers, parse_manifest_name

TYPES, OFFERS = ["ACQUISITION", "SAV"], ["ADSL", "VULA"]


@pytest.fixture(scope="module")
def db(database_url: str):
    """One transaction under the settings the loaders type in (DateStyle, the deployment's time zone); each
    cell is trimmed first, as the typing statement does."""
    with psycopg.connect(database_url) as conn:
        typing_session(conn, "Africa/Casablanca")
        yield conn


def one(conn: psycopg.Connection, query: str, *params: object) -> tuple:
    """``query`` with each %s a trimmed cell."""
    return conn.execute(query.replace("%s", "contract.trimmed(%s::text)"), list(params)).fetchone()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0612345678", "212612345678"),
        ("06 12 34 56 78", "212612345678"),
        (" +212 6 12 34 56 78\t", "212612345678"),
        ("00212612345678", "212612345678"),
        ("212612345678", "212612345678"),
        ("+33 6 12 34 56 78", "33612345678"),
        (cell_text(612345678), "212612345678"),  # a spreadsheet dropped the leading 0
        (cell_text(612345678.0), "212612345678"),
        ("06.12.34.56.78", "212612345678"),
        ("(06) 12-34/56 78", "212612345678"),
    ],
)
def test_phone_numbers_become_e164_digits(db, raw: str, expected: str) -> None:
    assert one(
        db, "select contract.phone_e164(%s, '212', 9), contract.phone_problem(%s, 'c', '212', 9)", raw, raw
    ) == (
        expected,
        None,
    )


def test_default_country_is_configurable(db) -> None:
    assert one(db, "select contract.phone_e164('0612345678', '33', 9)") == ("33612345678",)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("n/a", "client_number: phone number 'n/a' contains characters other than digits"),
        ("", "client_number: phone number is empty"),
        (None, "client_number: phone number is empty"),
        ("12", "client_number: phone number '12' gives '12': E.164 numbers have 8 to 15 digits"),
        ("06-12-AB", "contains characters other than digits and separators"),
        ("() -", "client_number: phone number '() -' has no digits"),
    ],
)
def test_bad_phone_numbers_say_why(db, raw: str | None, why: str) -> None:
    e164, problem = one(
        db,
        "select contract.phone_e164(%s, '212', 9), contract.phone_problem(%s, 'client_number', '212', 9)",
        raw,
        raw,
    )
    assert e164 is None and why in problem


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("20/11/2026", date(2026, 11, 20)),
        ("2026-11-20", date(2026, 11, 20)),
        ("05/03/2026", date(2026, 3, 5)),  # day first
        ("5.3.2026", date(2026, 3, 5)),
        ("05-03-2026", date(2026, 3, 5)),
        ("05/03/26", date(2026, 3, 5)),
        ("2026/03/05", date(2026, 3, 5)),
        ("20261120", date(2026, 11, 20)),
        ("20/11/2026 14:30", date(2026, 11, 20)),
        (cell_text(datetime(2026, 11, 20, 9, 0)), date(2026, 11, 20)),  # a workbook's date cell
        (cell_text(46346), date(2026, 11, 20)),  # an Excel serial
    ],
)
def test_dates(db, raw: str, expected: date) -> None:
    assert one(db, "select contract.to_date(%s), contract.date_problem(%s, 'ordered_on')", raw, raw) == (
        expected,
        None,
    )


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("31/02/2026", "ordered_on '31/02/2026' is not a calendar date"),
        ("hier", "ordered_on 'hier' is not a date (expected dd/mm/yyyy or yyyy-mm-dd)"),
        ("", "ordered_on is empty"),
        ("12", "ordered_on '12' is not a date"),
    ],
)
def test_bad_dates_say_why(db, raw: str, why: str) -> None:
    value, problem = one(db, "select contract.to_date(%s), contract.date_problem(%s, 'ordered_on')", raw, raw)
    assert value is None and problem.startswith(why)


def test_dates_outside_the_accepted_range_say_which_setting(db) -> None:
    (problem,) = one(
        db,
        "select contract.bounds_problem(date '1900-01-01', 'ordered_on', date '2000-01-01',"
        " date '2100-12-31')",
    )
    assert problem.startswith("ordered_on 1900-01-01 is outside the accepted dates 2000-01-01 to 2100-12-31")
    assert "CALLAUDIT_EARLIEST_DATE" in problem
    assert one(
        db, "select contract.bounds_problem(date '2000-01-01', 'x', date '2000-01-01', date '2000-01-01')"
    ) == (None,)


def test_timestamps_keep_offsets_and_default_to_the_deployment_zone(db) -> None:
    query = "select contract.to_timestamptz(%s)"
    assert one(db, query, "2026-11-20T09:30:00+00:00") == (datetime(2026, 11, 20, 9, 30, tzinfo=UTC),)
    assert one(db, query, "2026-11-20 09:30:00") == (datetime(2026, 11, 20, 8, 30, tzinfo=UTC),)  # +01:00
    assert one(db, query, "2026-11-20T09:30:00Z") == (datetime(2026, 11, 20, 9, 30, tzinfo=UTC),)
    assert one(db, query, "2026-11-20T09:30+0100") == (datetime(2026, 11, 20, 8, 30, tzinfo=UTC),)
    for bad in ("yesterday 9am", "2026-13-05T10:00:00", "20/11/2026 09:30"):
        value, problem = one(
            db,
            f"{query}, contract.timestamp_problem(%s, 'start_time')",
            bad,
            bad,
        )
        assert value is None and "is not ISO 8601" in problem, bad


@pytest.mark.parametrize(
    ("raw", "seconds", "why"),
    [
        ("12.5", 12.5, None),
        ("12,5", 12.5, None),
        ("86400", 86400.0, None),
        ("86400.5", None, "more than a day"),
        ("inf", None, "more than a day"),
        ("1e400", None, "more than a day"),  # no overflow, even as a constant the planner folds
        ("-3", None, "negative or not a number"),
        ("nan", None, "negative or not a number"),
        ("abc", None, "is not a number of seconds"),
        ("", None, "is not a number of seconds"),
    ],
)
def test_durations(db, raw: str, seconds: float | None, why: str | None) -> None:
    value, problem = one(
        db, "select contract.to_seconds(%s), contract.seconds_problem(%s, 'duration_s')", raw, raw
    )
    assert value == seconds
    assert (problem is None) if why is None else (why in problem and problem.startswith("duration_s "))


def test_manifest_names() -> None:
    name = parse_manifest_name("SAV_VULA_20261120.xlsx", TYPES, OFFERS)
    assert (name.order_type, name.offer, name.day, name.prefix) == (
        "SAV",
        "VULA",
        date(2026, 11, 20),
        "SAV_VULA",
    )
    for bad in ("SAV_FIBRE_20261120.csv", "SAV_VULA_2026.csv", "calls.csv", "SAV_VULA_20261320.csv"):
        with pytest.raises(ContractError):
            parse_manifest_name(bad, TYPES, OFFERS)


def test_headers_map_by_configuration_ignoring_case_and_accents() -> None:
    mapping = {"N° Commande": "order_id", "Numéro Client": "client_number", "Statut": "status"}
    columns = map_headers(
        ["numero client", " STATUT ", "N° Commande", "Extra"], mapping, ["order_id", "status"]
    )
    assert columns == {0: "client_number", 1: "status", 2: "order_id"}
    with pytest.raises(ContractError, match=r"order_id \(header 'N° Commande'\)"):
        map_headers(["Numéro Client", "Statut"], mapping, ["order_id", "status"])


def test_fold() -> None:
    assert fold("  Client  INJOIGNABLE ") == fold("client injoignable")
    assert fold("Créé") == "cree"
