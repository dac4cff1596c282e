"""Landing a file as text and typing it in SQL (flows/landing.py): the COPY path and the row-by-row path
give the same rows, numbers and reasons; workbooks land through the same typing."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import openpyxl
import psycopg
import pytest

from flows.ingest import typing_parameters
from flows.landing import CALL_CELLS, land, type_calls, type_manifest_rows
from inference.contract import map_headers

HEADER = ",".join(CALL_CELLS)
ROWS = [
    "C1,ADSL_SAV,0522000001,0611111111,2026-11-05T10:00:00+01:00,12.5,a/C1.wav",
    "C2,ADSL_SAV,0522000001,06111,2026-11-05T11:00:00+01:00,9,/a/C2.wav",
    "C3,ADSL_SAV,0522000001,0611111111,2026-11-05 12:00:00,abc,",
    '"C4","ADSL_SAV","0522000001","0611111111","2026-11-05 13:00","7,5",""',
]


@pytest.fixture
def conn(database_url: str):
    with psycopg.connect(database_url) as connection:
        yield connection
        connection.rollback()


def typed_calls(conn: psycopg.Connection, tmp_path: Path, text: str) -> tuple[bool, list[tuple]]:
    from flows.config import get_settings

    path = tmp_path / "calls.csv"
    path.write_text(text, encoding="utf-8")
    landed = land(conn, path, path.read_bytes())
    columns = map_headers(landed.headers, {c: c for c in CALL_CELLS}, list(CALL_CELLS[:-1]))
    type_calls(conn, columns, typing_parameters(get_settings()))
    rows = conn.execute(
        "select row_number, call_id, client_number, start_time, duration_s, audio_path, reason, payload"
        " from typed order by row_number"
    ).fetchall()
    conn.execute("drop table typed")
    return landed.fast, rows


def test_copy_and_row_by_row_land_the_same_rows(conn, tmp_path: Path) -> None:
    fast, clean = typed_calls(conn, tmp_path, "\n".join([HEADER, *ROWS]) + "\n")
    # a trailing blank line makes COPY refuse the file: read row by row, typed the same
    slow, ragged = typed_calls(conn, tmp_path, "\n".join([HEADER, *ROWS]) + "\n\n")
    assert fast and not slow
    assert ragged == clean
    by_id = {row[1]: row for row in clean}
    assert [row[0] for row in clean] == [1, 2, 3, 4]
    assert by_id["C1"][2:6] == (
        "212611111111",
        datetime.fromisoformat("2026-11-05T10:00:00+01:00"),
        12.5,
        "a/C1.wav",
    )
    assert by_id["C1"][6] is None and by_id["C4"][6] is None and by_id["C4"][4] == 7.5
    assert by_id["C2"][5] == "a/C2.wav"  # a leading slash is not an absolute path
    assert (
        by_id["C2"][6]
        == "client_number: phone number '06111' gives '06111': E.164 numbers have 8 to 15 digits"
    )
    assert by_id["C3"][6] == "duration_s 'abc' is not a number of seconds"
    # the payload names the client and time of a rejected call, for the orders it could be an attempt of
    assert by_id["C3"][7]["client_e164"] == "212611111111" and by_id["C3"][7]["duration_s"] == "abc"
    assert "client_e164" not in by_id["C2"][7]


def test_ragged_rows_and_nul_bytes_keep_their_row_numbers(conn, tmp_path: Path) -> None:
    lines = [
        HEADER,
        ROWS[0],
        "",
        "C9,ADSL_SAV",
        ROWS[3] + ",extra",
        ROWS[1].replace("ADSL_SAV", "ADSL\x00SAV"),
    ]
    fast, rows = typed_calls(conn, tmp_path, "\n".join(lines) + "\n")
    assert not fast
    reasons = {number: reason for number, *_, reason, _ in rows}
    assert reasons[1] is None and 2 not in reasons  # a blank row is numbered, not typed
    assert reasons[3].startswith("start_time is empty")  # cut short: the missing cells are empty
    assert reasons[4] is None  # a cell beyond the header's is ignored
    assert reasons[5] == "NUL byte in branch"


def test_a_workbook_lands_through_the_same_typing(conn, tmp_path: Path) -> None:
    from flows.config import get_settings

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(
        ["N° Commande", "Numéro Client", "Date Commande", "Date Suspension", "Statut", "Motif Suspension"]
    )
    sheet.append(["CMD-1", 611111111, datetime(2026, 11, 1), date(2026, 11, 20), "Suspendu", "Client absent"])
    sheet.append([None, None, None, None, None, None])
    sheet.append(["CMD-2", "0622222222", 46346, "20/11/2026", "Suspendu", "Client injoignable"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    path = tmp_path / "ACQUISITION_ADSL_20261120.xlsx"
    path.write_bytes(buffer.getvalue())
    settings = get_settings()
    contract = settings.contract()
    landed = land(conn, path, path.read_bytes())
    columns = map_headers(landed.headers, contract.headers["ACQUISITION"], contract.required_columns)
    params = {
        **typing_parameters(settings),
        "order_type": "ACQUISITION",
        "offer": "ADSL",
        "file_date": date(2026, 11, 20),
        "offers": contract.offers,
    }
    type_manifest_rows(conn, columns, params)
    rows = conn.execute(
        "select row_number, order_id, client_number, ordered_on, suspended_on, reason from typed order by 1"
    ).fetchall()
    assert rows == [
        (1, "CMD-1", "212611111111", date(2026, 11, 1), date(2026, 11, 20), None),
        (3, "CMD-2", "212622222222", date(2026, 11, 20), date(2026, 11, 20), None),
    ]
