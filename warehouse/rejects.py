"""Quarantine: bad input becomes a row in ``ops.rejects`` with a reason, never an exception for the batch."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg


@dataclass(frozen=True)
class Reject:
    source: str  # file name or audio path
    location: str  # "file", "row 12", "header", …
    reason: str  # what is wrong and what to fix
    payload: dict[str, Any] | None = None


def printable(text: str) -> str:
    """``text`` as PostgreSQL can store it: a NUL byte (refused in text and jsonb) shown as U+2400 (␀)."""
    return text.replace("\x00", "\u2400")


def _jsonable(value: Any) -> Any:
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN or Infinity
    if value is None or isinstance(value, int | float | bool):
        return value
    return printable(str(value))


WHOLE_FILE_LOCATIONS = ("file", "header")  # rejects of a file as a whole, not of one of its rows


def replace_rejects(
    conn: psycopg.Connection, source_kind: str, source: str, rejects: list[Reject], run_id: str | None
) -> None:
    """Replace the rejects recorded for one source: re-loading a source never duplicates its rejects."""
    conn.execute(
        "delete from ops.rejects where source_kind = %s and source = %s", [source_kind, printable(source)]
    )
    insert_rejects(conn, source_kind, rejects, run_id)


def replace_file_rejects(
    conn: psycopg.Connection, source_kind: str, source: str, rejects: list[Reject], run_id: str | None
) -> None:
    """Replace only the whole-file rejects of one source: a version of the file rejected whole leaves the
    row rejects of the version still loaded (and its rows) as they are."""
    conn.execute(
        "delete from ops.rejects where source_kind = %s and source = %s and location = any(%s)",
        [source_kind, printable(source), list(WHOLE_FILE_LOCATIONS)],
    )
    insert_rejects(conn, source_kind, rejects, run_id)


def insert_rejects(
    conn: psycopg.Connection, source_kind: str, rejects: list[Reject], run_id: str | None
) -> None:
    """Add rejects (the caller has removed the ones they replace)."""
    if not rejects:
        return
    with conn.cursor() as cur:
        cur.executemany(
            "insert into ops.rejects (source_kind, source, location, reason, payload, run_id)"
            " values (%s, %s, %s, %s, %s, %s)",
            [
                (
                    source_kind,
                    printable(r.source),
                    printable(r.location),
                    printable(r.reason),
                    None if r.payload is None else json.dumps(_jsonable(r.payload), ensure_ascii=False),
                    run_id,
                )
                for r in rejects
            ],
        )
