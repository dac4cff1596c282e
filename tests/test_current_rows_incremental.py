"""The int_*_latest models are incremental by recording (macros/current_rows.sql): a run writes the
recordings whose current row changed (analysed by a new detector, transcribed by a new model, redacted or
classified again), drops the recordings that have no current row any more (their analysis deleted, their
current transcript not redacted yet), leaves every other row as it was (not even rewritten), and ends with
what a full build gives on the same inputs. On a database of its own with a few hand-made rows."""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import dbt_succeeds, rows_with_writer, without_writer
from tests.raw_rows import analyse

MODELS = {
    "int_audio_analysis_latest": "audio_sha256, detector_version, ring_bursts, analysed_at",
    "int_transcripts_latest": "audio_sha256, asr_model_id, transcript_chars, transcribed_at",
    "int_redacted_transcripts_latest": "audio_sha256, asr_model_id, redactor_version, transcript_redacted",
    "int_classifications_latest": "audio_sha256, classifier_model, call_type, classified_at",
}


def build(url: str, *extra: str) -> None:
    dbt_succeeds(url, "run", "--select", *(f"+{model}" for model in MODELS), *extra)


def built(url: str) -> dict[str, dict[str, tuple]]:
    return {model: rows_with_writer(url, f"intermediate.{model}", cols) for model, cols in MODELS.items()}


def rings(count: int) -> list[tuple[str, float]]:
    return [("ring", 0.5 + 5 * n) for n in range(count)]


def transcribe(conn: psycopg.Connection, sha: str, model: str, text: str) -> None:
    conn.execute(
        """insert into raw.transcripts (sha256, model_id, chunking_id, channel, text)
           values (%s, %s, 'c1', 'mix', %s)""",
        [sha, model, text],
    )


def redact(conn: psycopg.Connection, sha: str, model: str, redactor: str, text: str) -> None:
    conn.execute(
        """insert into raw.redacted_transcripts (sha256, asr_model_id, chunking_id, channel, redactor_version,
                                                 text, entities)
           values (%s, %s, 'c1', 'mix', %s, %s, 0)""",
        [sha, model, redactor, text],
    )


def classify(conn: psycopg.Connection, sha: str, call_type: int) -> None:
    # as the classification stage writes an answer again: the same route and prompt, a new time
    conn.execute(
        """insert into raw.classifications (sha256, model, prompt_version, request_key, call_type, is_trusted)
           values (%s, 'route-a', 'p1', %s, %s, true)
           on conflict (sha256, model, prompt_version) do update set
             call_type = excluded.call_type, created_at = now()""",
        [sha, f"request-{sha}", call_type],
    )


@pytest.fixture(scope="module")
def recordings_db(database_url: str) -> str:
    with psycopg.connect(database_url) as conn:
        for sha in ("s1", "s2", "s3"):
            analyse(conn, sha, "tones-1", rings(1))
            transcribe(conn, sha, "asr-1", f"allo {sha}")
            redact(conn, sha, "asr-1", "redactor-1", f"allo {sha}")
            classify(conn, sha, 1)
    return database_url


def test_a_run_writes_only_the_recordings_whose_current_row_changed(recordings_db: str) -> None:
    build(recordings_db, "--full-refresh")
    full = built(recordings_db)
    assert all(set(rows) == {"s1", "s2", "s3"} for rows in full.values())
    build(recordings_db)  # nothing changed: no row rewritten
    assert built(recordings_db) == full

    with psycopg.connect(recordings_db) as conn:
        analyse(conn, "s2", "tones-2", rings(3))  # analysed again by a new detector
        conn.execute("delete from raw.audio_analysis where sha256 = 's3'")  # its analysis deleted
        analyse(conn, "s4", "tones-1", rings(2))  # analysed for the first time
        transcribe(conn, "s2", "asr-2", "bonjour")  # transcribed again: its redaction is of the old one
        redact(conn, "s1", "asr-1", "redactor-2", "allo <PERSON>")  # redacted again by a new redactor
        classify(conn, "s3", 4)  # classified again
    build(recordings_db)
    after = built(recordings_db)

    analysis, transcripts = after["int_audio_analysis_latest"], after["int_transcripts_latest"]
    redacted, classified = after["int_redacted_transcripts_latest"], after["int_classifications_latest"]
    assert set(analysis) == {"s1", "s2", "s4"}
    assert analysis["s2"][2:4] == ("tones-2", 3) and analysis["s4"][2:4] == ("tones-1", 2)
    assert transcripts["s2"][2:4] == ("asr-2", len("bonjour"))
    assert set(redacted) == {"s1", "s3"}  # s2's current transcript is not redacted yet
    assert redacted["s1"][3:] == ("redactor-2", "allo <PERSON>")
    assert classified["s3"][3] == 4 and classified["s3"][4] > full["int_classifications_latest"]["s3"][4]
    rewritten = {
        "int_audio_analysis_latest": {"s2", "s4"},
        "int_transcripts_latest": {"s2"},
        "int_redacted_transcripts_latest": {"s1"},
        "int_classifications_latest": {"s3"},
    }
    for model, rows in after.items():  # every other row as it was, in the same transaction
        assert {sha for sha, row in rows.items() if row != full[model].get(sha)} == rewritten[model], model

    build(recordings_db, "--full-refresh")  # the same inputs from scratch: the same rows
    assert {model: without_writer(rows) for model, rows in built(recordings_db).items()} == {
        model: without_writer(rows) for model, rows in after.items()
    }
