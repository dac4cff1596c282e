"""Audio analysis stage: ring-back, voicemail beep, SIT, speech onset and outcome for every new recording.

Keyed by the recording's sha256 and the detector's version: a recording already analysed by this version
is never analysed again; a new detector version analyses everything once more. Runs across all cores.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context

import psycopg
from prefect import get_run_logger, task
from prefect.cache_policies import NONE

from flows.config import Settings
from flows.db import write_stage
from flows.progress import progress_bar
from flows.rejects import Reject
from flows.storage import AudioRoots
from inference.audio_analysis import DETECTOR_VERSION, AudioAnalysis, analyse_file

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


@dataclass
class StageResult:
    stage: str
    processed: int
    skipped: int
    rejected: int


def _analyse(job: tuple[str, str, str]) -> tuple[str, str, AudioAnalysis | str]:
    sha, audio_path, local = job
    try:
        return sha, audio_path, analyse_file(local)
    except Exception as exc:  # a recording soundfile described but cannot decode: quarantine it
        return sha, audio_path, f"{type(exc).__name__}: {exc}"


def _rows(sha: str, result: AudioAnalysis) -> tuple[tuple, list[tuple]]:
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
    return analysis, tones


@task(name="analyse-audio", cache_policy=NONE, retries=1)
def analyse_audio(database_url: str, settings: Settings) -> StageResult:
    logger = get_run_logger()
    with psycopg.connect(database_url) as conn:
        todo = conn.execute(
            """select distinct on (f.sha256) f.sha256, f.audio_path, f.audio_root, f.etag, f.size_bytes
               from raw.audio_files f
               where not exists (select 1 from raw.audio_analysis a
                                 where a.sha256 = f.sha256 and a.detector_version = %s)
               order by f.sha256, f.audio_path""",
            [DETECTOR_VERSION],
        ).fetchall()
        total = conn.execute("select count(distinct sha256) from raw.audio_files").fetchone()[0]
    roots = AudioRoots(settings)
    jobs = [
        (sha, audio_path, str(roots.local_path(root_uri, audio_path, etag, size)))
        for sha, audio_path, root_uri, etag, size in todo
    ]
    analyses, tones, rejects = [], [], []
    workers = max(1, min(len(jobs), os.cpu_count() or 1))
    with progress_bar("audio analysis", total=len(jobs)) as advance:
        if jobs:
            with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
                for sha, audio_path, result in pool.map(_analyse, jobs, chunksize=4):
                    advance()
                    if isinstance(result, str):
                        rejects.append(Reject(audio_path, "analysis", f"audio analysis failed: {result}"))
                        continue
                    row, tone_rows = _rows(sha, result)
                    analyses.append(row)
                    tones.extend(tone_rows)
    write_stage(
        database_url,
        [("raw.audio_analysis", ANALYSIS_COLUMNS, analyses), ("raw.audio_tones", TONE_COLUMNS, tones)],
        "audio_analysis",
        rejects,
    )
    logger.info(
        "audio analysis (%s): %d analysed, %d already known, %d quarantined",
        DETECTOR_VERSION,
        len(analyses),
        total - len(todo),
        len(rejects),
    )
    return StageResult("audio analysis", len(analyses), total - len(todo), len(rejects))
