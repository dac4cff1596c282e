"""Audio analysis stage: ring-back, voicemail beep, SIT, speech onset and outcome for every new recording.

Keyed by the recording's sha256 and the detector's version: a recording already analysed by this version
is never analysed again; a new detector version analyses everything once more. Runs across all cores.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from multiprocessing import get_context

import psycopg

from flows.config import Settings
from flows.runtime import Shard
from flows.stage import Advance, Stage, StageResult, Work, finish, run_stage, stage_task
from flows.storage import AudioRoots
from flows.telemetry import StageMeter
from inference.audio_analysis import (
    DETECTOR_VERSION,
    AudioAnalysis,
    UnanalysableRecording,
    analyse_file,
)
from warehouse.db import write_stage
from warehouse.rejects import Reject

ANALYSIS_COLUMNS = (
    "sha256",
    "detector_version",
    "outcome",
    "outcome_confidence",
    "ring_bursts",
    "voicemail_beeps",
    "sit_tones",
    "speech_onset_s",
    "speech_s",
    "agent_speech_s",
    "customer_speech_s",
)
TONE_COLUMNS = ("sha256", "detector_version", "kind", "start_s", "end_s", "frequency_hz")
SEGMENT_COLUMNS = ("sha256", "detector_version", "channel", "start_s", "end_s")


def _analyse(job: tuple[str, str, str]) -> tuple[str, str, AudioAnalysis | str, float]:
    sha, audio_path, local = job
    started = time.perf_counter()
    try:
        result: AudioAnalysis | str = analyse_file(local)
    except UnanalysableRecording as exc:  # nothing to analyse (NaN/Inf samples …): quarantine it
        result = f"unanalysable recording: {exc}"
    except Exception as exc:  # a recording soundfile described but cannot decode: quarantine it
        result = f"audio analysis failed: {type(exc).__name__}: {exc}"
    return sha, audio_path, result, time.perf_counter() - started


def _rows(sha: str, result: AudioAnalysis) -> tuple[tuple, list[tuple], list[tuple]]:
    analysis = (
        sha,
        result.detector_version,
        result.outcome,
        result.outcome_confidence,
        len(result.ring_bursts),
        len(result.voicemail_beeps),
        len(result.sit_tones),
        result.speech_onset_s,
        result.speech_s,
        result.agent_speech_s,
        result.customer_speech_s,
    )
    tones = [
        (sha, result.detector_version, kind, e.start_s, e.end_s, e.frequency_hz)
        for kind, events in (
            ("ring", result.ring_bursts),
            ("voicemail_beep", result.voicemail_beeps),
            ("sit", result.sit_tones),
        )
        for e in events
    ]
    segments = [
        (sha, result.detector_version, channel, start_s, end_s)
        for channel, spans in enumerate(result.speech_segments)
        for start_s, end_s in spans
    ]
    return analysis, tones, segments


class AudioAnalysisStage(Stage[tuple[str, str, str]]):
    """Items: (sha256, audio path, local file) of each recording not analysed by this detector version."""

    label = "audio analysis"
    version_key = "detector"

    def __init__(self, database_url: str, settings: Settings) -> None:
        self.database_url, self.settings = database_url, settings

    def pending(self, conn: psycopg.Connection, shard: Shard) -> Work[tuple[str, str, str]]:
        todo = conn.execute(
            f"""select distinct on (f.sha256) f.sha256, f.audio_path, f.audio_root, f.etag, f.size_bytes
               from raw.audio_files f
               where not exists (select 1 from raw.audio_analysis a
                                 where a.sha256 = f.sha256 and a.detector_version = %s)
                 and {shard.sql("f.sha256")}
               order by f.sha256, f.audio_path""",
            [DETECTOR_VERSION],
        ).fetchall()
        (total,) = conn.execute(
            f"select count(distinct sha256) from raw.audio_files f where {shard.sql('f.sha256')}"
        ).fetchone()
        roots = AudioRoots(self.settings)
        jobs = [
            (sha, audio_path, str(roots.local_path(root_uri, audio_path, etag, size)))
            for sha, audio_path, root_uri, etag, size in todo
        ]
        return Work(jobs, total - len(todo), DETECTOR_VERSION)

    def process(
        self, work: Work[tuple[str, str, str]], shard: Shard, meter: StageMeter, advance: Advance
    ) -> StageResult:
        jobs = work.items
        analyses, tones, segments, rejects = [], [], [], []
        workers = 1 if shard.fanned_out else max(1, min(len(jobs), os.cpu_count() or 1))
        with ExitStack() as stack:
            if workers > 1:
                spawn = get_context("spawn")
                pool = stack.enter_context(ProcessPoolExecutor(max_workers=workers, mp_context=spawn))
                results = pool.map(_analyse, jobs, chunksize=4)
            else:
                results = map(_analyse, jobs)
            for sha, audio_path, result, seconds in results:
                advance()
                if isinstance(result, str):
                    meter.error()
                    # every recording the analysis quarantines is unanalysable: its calls go to review
                    rejects.append(Reject(audio_path, "analysis", result, {"unanalysable": True}))
                    continue
                meter.observe(seconds)
                row, tone_rows, segment_rows = _rows(sha, result)
                analyses.append(row)
                tones.extend(tone_rows)
                segments.extend(segment_rows)
        write_stage(
            self.database_url,
            [
                ("raw.audio_analysis", ANALYSIS_COLUMNS, analyses),
                ("raw.audio_tones", TONE_COLUMNS, tones),
                ("raw.speech_segments", SEGMENT_COLUMNS, segments),
            ],
            "audio_analysis",
            rejects,
        )
        return finish(
            meter,
            "audio analysis (%s, shard %s): %d analysed, %d already known, %d quarantined",
            DETECTOR_VERSION,
            shard,
            len(analyses),
            work.done_before,
            len(rejects),
            processed=len(analyses),
            skipped=work.done_before,
            rejected=len(rejects),
            model_id=DETECTOR_VERSION,
            detector=DETECTOR_VERSION,
        )


@stage_task("analyse-audio")
def analyse_audio(database_url: str, settings: Settings, shard: Shard) -> StageResult:
    return run_stage(AudioAnalysisStage(database_url, settings), database_url, shard)
