"""``call_conversations`` is incremental by call: a run measures again only the calls whose recording has a
new current analysis (new spans of speech) or another recording, measures the new calls, drops the calls that
are gone, leaves every other row as it was (not even rewritten: a call loaded again with the same recording
keeps its row), measures every call again when a variable of the measures changes, and ends with what a full
build gives on the same inputs. On a database of its own with a few hand-made rows."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest

from tests.conftest import dbt_succeeds, rows_with_writer, without_writer
from tests.raw_rows import add_call, add_recording, analyse

COLUMNS = "call_id, audio_sha256, is_stereo, speech_turns, talk_s, longest_silence_s, interruptions"


def build(url: str, *extra: str, **extra_vars: float) -> None:
    dbt_succeeds(url, "run", "--select", "+call_conversations", *extra, extra_vars=extra_vars)


def measured(url: str) -> dict[str, tuple]:
    return rows_with_writer(url, "marts.call_conversations", COLUMNS)


@pytest.fixture(scope="module")
def calls_db(database_url: str) -> str:
    with psycopg.connect(database_url) as conn:
        add_recording(conn, "p1.wav", "s1", channels=2)
        add_recording(conn, "p2.wav", "s2")
        add_recording(conn, "p3.wav", "s3")
        add_recording(conn, "p4.wav", "s4", channels=2)
        for n in range(1, 5):
            add_call(conn, f"c{n}", f"p{n}.wav", n)
        # stereo: the customer starts 0.5 s into the agent's turn (an interruption)
        analyse(conn, "s1", "tones-1", [("ring", 0.5)], [(0, 1.0, 4.0), (1, 1.5, 5.0)])
        analyse(conn, "s2", "tones-1", [], [(0, 1.0, 2.0), (0, 2.3, 3.0)])  # mono: a 0.3 s pause
        analyse(conn, "s3", "tones-1", [], [(0, 1.0, 3.0)])
        # s4 not analysed yet: no row
    return database_url


def test_a_run_measures_again_only_the_calls_that_changed(calls_db: str) -> None:
    build(calls_db, "--full-refresh")
    full = measured(calls_db)
    assert set(full) == {"c1", "c2", "c3"}
    assert full["c1"][2:] == ("s1", True, 2, Decimal("4.000"), Decimal("0.000"), 1)
    assert full["c2"][4] == 1  # one turn across the 0.3 s pause
    build(calls_db)  # nothing changed: no row rewritten
    assert measured(calls_db) == full

    with psycopg.connect(calls_db) as conn:
        # s2 analysed again by a new detector: its pause is now 0.6 s, two turns
        analyse(conn, "s2", "tones-2", [], [(0, 1.0, 2.0), (0, 2.6, 3.0)])
        conn.execute("delete from raw.calls where call_id = 'c3'")  # gone from its file
        analyse(conn, "s4", "tones-1", [("ring", 0.5)], [(0, 1.0, 2.0)])  # analysed for the first time
        add_call(conn, "c5", "p1.wav", 5)  # a new call on a known recording
        # c1's file loaded again, the same recording: the same measures
        conn.execute("update raw.calls set loaded_at = now() where call_id = 'c1'")
    build(calls_db)
    after = measured(calls_db)

    assert set(after) == {"c1", "c2", "c4", "c5"}
    assert after["c2"][4:7] == (2, Decimal("1.400"), Decimal("0.600")) and after["c5"][2:] == full["c1"][2:]
    assert after["c4"][2:4] == ("s4", True)
    assert {call for call, row in after.items() if row != full.get(call)} == {"c2", "c4", "c5"}

    build(calls_db, "--full-refresh")  # the same inputs from scratch: the same rows
    refreshed = measured(calls_db)
    assert without_writer(refreshed) == without_writer(after)

    build(calls_db, mono_turn_pause_max_s=0.7)  # a variable of the measures: every call measured again
    changed = measured(calls_db)
    assert all(changed[call][0] != refreshed[call][0] for call in refreshed)
    assert changed["c2"][4] == 1  # a 0.6 s pause is now part of the turn
