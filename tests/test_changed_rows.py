"""The changed_rows incremental strategy (macros/changed_rows_strategy.sql), as ``call_attempts`` uses it:
a run computes every row and writes only those that differ from the table's. A recording classified again
rewrites its attempts, a call gone from calls.csv takes its attempts away and renumbers the ones after it,
every other row is left as it was (not even rewritten), and the table ends as a full build leaves it. On a
copy of the session's warehouse."""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import clone_database, dbt_succeeds, rows_with_writer, without_writer

COLUMNS = "attempt_key, order_key, call_id, audio_sha256, attempt_number, gap_minutes, call_type"


@pytest.fixture(scope="module")
def clone(server_url: str, warehouse) -> str:
    return clone_database(server_url, warehouse.url, prefix="t_changed")


def build(url: str, *extra: str) -> None:
    dbt_succeeds(
        url,
        "run",
        "--select",
        "int_attempts_sequenced",
        "int_classifications_latest",
        "call_attempts",
        *extra,
    )


def attempts(url: str) -> dict[str, tuple]:
    return rows_with_writer(url, "marts.call_attempts", COLUMNS)


def test_a_run_writes_only_the_attempts_that_changed(clone: str) -> None:
    build(clone)
    before = attempts(clone)
    build(clone)  # nothing changed: no row rewritten
    assert attempts(clone) == before

    rows = {
        key: dict(zip(COLUMNS.split(", "), row, strict=True)) for key, row in without_writer(before).items()
    }
    per_order = {row["order_key"]: 0 for row in rows.values()}
    for row in rows.values():
        per_order[row["order_key"]] += 1
    # the first attempt of an order that has more, and a classified recording of another order
    gone = next(
        row for row in rows.values() if row["attempt_number"] == 1 and per_order[row["order_key"]] >= 2
    )
    classified = next(
        row for row in rows.values() if row["call_type"] is not None and row["order_key"] != gone["order_key"]
    )
    sha, new_type = classified["audio_sha256"], 1 if classified["call_type"] != 1 else 2
    with psycopg.connect(clone) as conn:
        conn.execute("delete from raw.calls where call_id = %s", [gone["call_id"]])
        # classified again by the same route and prompt, as the classification stage writes it
        conn.execute(
            "update raw.classifications set call_type = %s, created_at = now() where sha256 = %s",
            [new_type, sha],
        )
    build(clone)
    after = attempts(clone)

    assert not any(row[3] == gone["call_id"] for row in after.values())
    # the attempts after the gone call in each of its orders (renumbered), those of the reclassified recording
    gone_number = {
        row["order_key"]: row["attempt_number"] for row in rows.values() if row["call_id"] == gone["call_id"]
    }
    renumbered = {
        key
        for key, row in rows.items()
        if row["attempt_number"] > gone_number.get(row["order_key"], row["attempt_number"])
    }
    reclassified = {
        key for key, row in rows.items() if row["audio_sha256"] == sha and row["call_id"] != gone["call_id"]
    }
    assert renumbered and reclassified
    assert {key for key, row in after.items() if row != before.get(key)} == renumbered | reclassified
    assert all(after[key][5] == rows[key]["attempt_number"] - 1 for key in renumbered)
    assert all(after[key][7] == new_type for key in reclassified)

    build(clone, "--full-refresh")  # the same inputs from scratch: the same rows
    assert without_writer(attempts(clone)) == without_writer(after)
