"""Quarantine: bad input becomes a row in ``ops.rejects`` with a reason, never an exception for the batch."""

from __future__ import annotations

import json
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


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def replace_rejects(
    conn: psycopg.Connection, source_kind: str, source: str, rejects: list[Reject], run_id: str | None
) -> None:
    """Replace the rejects recorded for one source: re-loading a source never duplicates its rejects."""
    conn.execute("delete from ops.rejects where source_kind = %s and source = %s", [source_kind, source])
    if not rejects:
        return
    with conn.cursor() as cur:
        cur.executemany(
            "insert into ops.rejects (source_kind, source, location, reason, payload, run_id)"
            " values (%s, %s, %s, %s, %s, %s)",
            [
                (
                    source_kind,
                    r.source,
                    r.location,
                    r.reason,
                    None if r.payload is None else json.dumps(_jsonable(r.payload), ensure_ascii=False),
                    run_id,
                )
                for r in rejects
            ],
        )
