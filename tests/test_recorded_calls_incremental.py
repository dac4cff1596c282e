"""``int_recorded_calls`` is incremental by call: a run builds again only the calls whose record was loaded
again, whose recording was described again or has a new current analysis, adds the new calls, drops the
calls that are gone or whose recording is, leaves every other row as it was (not even rewritten), and ends
with what a full build gives on the same inputs. On a database of its own with a few hand-made rows."""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import dbt_succeeds, rows_with_writer, without_writer
from tests.raw_rows import add_call, add_recording, analyse

COLUMNS = (
    "call_id, branch, client_number, started_at, call_loaded_at, audio_path, audio_sha256, audio_duration_s,"
    " ring_bursts, speech_onset_s, speech_s, tone_kinds, tone_starts_s, tone_ends_s, tone_frequencies_hz,"
    " audio_loaded_at, detector_version, analysed_at"
)


def build(url: str, *extra: str) -> None:
    dbt_succeeds(url, "run", "--select", "+int_recorded_calls", *extra)


def recorded(url: str) -> dict[str, tuple]:
    return rows_with_writer(url, "intermediate.int_recorded_calls", COLUMNS)


@pytest.fixture(scope="module")
def calls_db(database_url: str) -> str:
    with psycopg.connect(database_url) as conn:
        for n in range(1, 8):
            add_recording(conn, f"p{n}.wav", f"s{n}")
            add_call(conn, f"c{n}", f"p{n}.wav", n)
        for n in range(1, 6):  # s6 and s7 not analysed yet
            analyse(conn, f"s{n}", "tones-1", [("ring", 0.5), ("ring", 5.0)][: n % 3])
        add_call(conn, "c8", "missing.wav", 8)  # a recording never loaded: left out
    return database_url


def test_a_run_builds_again_only_the_calls_that_changed(calls_db: str) -> None:
    build(calls_db, "--full-refresh")
    full = recorded(calls_db)
    assert set(full) == {f"c{n}" for n in range(1, 8)}
    assert full["c6"][12] is None and full["c3"][12] == []  # not analysed: no timeline; no tones: empty
    build(calls_db)  # nothing changed: no row rewritten
    assert recorded(calls_db) == full

    with psycopg.connect(calls_db) as conn:
        # c1's file loaded again (the loader replaces its rows: a new load time, here another branch)
        conn.execute("update raw.calls set branch = 'FTTH_SAV', loaded_at = now() where call_id = 'c1'")
        conn.execute("delete from raw.calls where call_id = 'c2'")  # gone from its file
        analyse(conn, "s4", "tones-2", [("voicemail_beep", 3.0)])  # analysed again by a new detector
        analyse(conn, "s6", "tones-1", [("sit", 0.2)])  # analysed for the first time
        # p5 described again: another recording now (a new sha256, a new description time)
        conn.execute(
            "update raw.audio_files set sha256 = 's1', loaded_at = now() where audio_path = %s", ["p5.wav"]
        )
        conn.execute("delete from raw.audio_files where audio_path = 'p7.wav'")  # its recording is gone
        add_call(conn, "c9", "p3.wav", 9)  # a new call on a known recording
        add_recording(conn, "missing.wav", "s8")  # c8's recording arrives
    build(calls_db)
    after = recorded(calls_db)

    assert set(after) == {"c1", "c3", "c4", "c5", "c6", "c8", "c9"}
    assert after["c1"][2] == "FTTH_SAV"
    assert (after["c4"][12], after["c4"][17]) == (["voicemail_beep"], "tones-2")
    assert (after["c6"][12], after["c5"][7]) == (["sit"], "s1")
    assert after["c5"][12] == full["c1"][12]  # the timeline of its new recording
    assert after["c8"][12] is None and after["c9"][12] == []
    rebuilt = {"c1", "c4", "c5", "c6"}
    assert all(after[key][0] != full[key][0] for key in rebuilt)
    assert after["c3"] == full["c3"]  # same values, same transaction

    build(calls_db, "--full-refresh")  # the same inputs from scratch: the same rows
    assert without_writer(recorded(calls_db)) == without_writer(after)
