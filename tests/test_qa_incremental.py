"""The QA scorecard at scale: ``call_qa_items`` is incremental. A run scores again only the calls whose
inputs changed (recording, transcript, redacted words, call type and its trust, or the qa_items seed),
drops the calls that are no longer answered, leaves every other row as it was (not even rewritten), and
ends with what a full build gives on the same inputs. On a copy of the session's warehouse."""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import clone_database, dbt_succeeds, rows_with_writer, without_writer

COLUMNS = (
    "qa_item_key, call_id, item_key, item_order, item_label, is_applicable, qa_status, evidence_words,"
    " evidence_start_s, evidence_end_s, is_classification_trusted"
)


@pytest.fixture(scope="module")
def clone(server_url: str, warehouse) -> str:
    return clone_database(server_url, warehouse.url, prefix="t_qa")


def build(url: str, *extra: str) -> None:
    dbt_succeeds(url, "build", "--select", "call_qa_items", *extra)


def scorecard(url: str) -> dict[str, tuple]:
    return rows_with_writer(url, "marts.call_qa_items", COLUMNS)


def test_a_run_scores_again_only_the_calls_that_changed(clone: str) -> None:
    build(clone, "--full-refresh")
    full = scorecard(clone)
    build(clone)  # nothing changed: no row rewritten
    assert scorecard(clone) == full

    with psycopg.connect(clone) as conn:
        calls = dict(
            conn.execute(
                """select call_id, min(call_type) from marts.call_attempts
                   where outcome = 'answered' and has_transcript and transcript_redacted is not null
                   group by call_id order by call_id"""
            ).fetchall()
        )
        assert len(calls) >= 3
        retyped, gone, *_ = calls
        new_type = 4 if calls[retyped] == 2 else 2  # new_slot_named applies to 2, availability_confirmed to 4
        conn.execute("update marts.call_attempts set call_type = %s where call_id = %s", [new_type, retyped])
        conn.execute("update marts.call_attempts set outcome = 'voicemail' where call_id = %s", [gone])
    build(clone)
    after = scorecard(clone)

    assert not any(row[2] == gone for row in after.values())
    changed = {key for key, row in after.items() if row[2] == retyped}
    assert changed and all(after[key][0] != full[key][0] for key in changed)  # scored again
    applies = {row[3]: row[6] for row in after.values() if row[2] == retyped}
    assert applies["new_slot_named"] is (new_type == 2)
    assert applies["availability_confirmed"] is (new_type == 4)
    untouched = {key: row for key, row in full.items() if row[2] not in (retyped, gone)}
    assert {key: after[key] for key in untouched} == untouched  # same values, same transaction

    build(clone, "--full-refresh")  # the same inputs from scratch: the same scorecard
    assert without_writer(scorecard(clone)) == without_writer(after)


def test_an_edited_item_scores_every_call_again(clone: str) -> None:
    build(clone)
    before = scorecard(clone)
    with psycopg.connect(clone) as conn:
        conn.execute(r"update seeds.qa_items set pattern = '\m(bonjour)\M' where item_key = 'greeting'")
    build(clone)
    after = scorecard(clone)
    assert set(after) == set(before)
    assert all(after[key][0] != before[key][0] for key in after)
    build(clone, "--full-refresh")
    assert without_writer(scorecard(clone)) == without_writer(after)
