"""Hand-made rows of the raw tables, as the loaders and inference stages write them, for the tests of the
incremental dbt models (each on a database of its own)."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg


def add_call(conn: psycopg.Connection, call_id: str, audio_path: str | None, hour: int) -> None:
    """A row of calls.csv, started ``hour`` hours into 2026-11-20 (UTC)."""
    conn.execute(
        """insert into raw.calls (call_id, source_path, row_number, branch, caller_number, client_number,
                                  client_number_raw, start_time, duration_s, audio_path)
           values (%s, 'calls.csv', %s, 'ADSL_SAV', '212522000000', '212600000001', '0600000001',
                   '2026-11-20 00:00+00'::timestamptz + make_interval(hours => %s), 30, %s)""",
        [call_id, hour, hour, audio_path],
    )


def add_recording(conn: psycopg.Connection, path: str, sha: str, channels: int = 1) -> None:
    """A recording the audio loader described."""
    conn.execute(
        """insert into raw.audio_files (audio_path, audio_root, sha256, size_bytes, etag, duration_s,
                                        sample_rate, channels, frames, format, subtype)
           values (%s, 'file:///audio', %s, 1000, 'etag', 30, 8000, %s, 240000, 'WAV', 'PCM_16')""",
        [path, sha, channels],
    )


def analyse(
    conn: psycopg.Connection,
    sha: str,
    version: str,
    tones: Sequence[tuple[str, float]] = (),
    speech: Sequence[tuple[int, float, float]] = (),
) -> None:
    """An audio analysis with its tones (kind, start; 1.2 s long, 425 Hz) and spans of speech (channel,
    start, end), written together as the analysis stage does."""
    conn.execute(
        """insert into raw.audio_analysis (sha256, detector_version, outcome, outcome_confidence, ring_bursts,
                                           voicemail_beeps, sit_tones, speech_onset_s, speech_s)
           values (%s, %s, 'answered', 0.9, %s, 0, 0, 9.5, 12.0)""",
        [sha, version, sum(kind == "ring" for kind, _ in tones)],
    )
    for kind, start in tones:
        conn.execute(
            """insert into raw.audio_tones (sha256, detector_version, kind, start_s, end_s, frequency_hz)
               values (%s, %s, %s, %s, %s + 1.2, 425)""",
            [sha, version, kind, start, start],
        )
    for channel, start, end in speech:
        conn.execute(
            """insert into raw.speech_segments (sha256, detector_version, channel, start_s, end_s)
               values (%s, %s, %s, %s, %s)""",
            [sha, version, channel, start, end],
        )
