"""Transcription stage: every analysed call with speech, not yet transcribed by this model and chunking.

Keyed by (audio sha256, model id, chunking id): a second run transcribes nothing, a new model or chunking
transcribes again. Worker processes load the model once each and take calls in groups; each group's
transcripts are written as it comes back, so a run killed in the middle keeps the groups it finished.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack, nullcontext
from multiprocessing import get_context
from pathlib import Path

import psycopg
import soundfile

from flows.config import Settings
from flows.runtime import GPU_LIMIT, Shard, limited
from flows.stage import Advance, Stage, StageResult, Work, finish, run_stage, stage_task
from flows.storage import AudioRoots
from flows.telemetry import StageMeter
from warehouse.db import write_stage
from warehouse.rejects import Reject

TRANSCRIPT_COLUMNS = (
    "sha256",
    "model_id",
    "chunking_id",
    "channel",
    "call_id",
    "text",
    "confidence",
    "segments",
)
SEGMENT_COLUMNS = (
    "sha256",
    "model_id",
    "chunking_id",
    "channel",
    "segment_index",
    "start_s",
    "end_s",
    "text",
    "confidence",
)
_WORKER: dict = {}


def asr_lm(settings: Settings) -> str | None:
    """The LM file the settings choose, or None (greedy): ``auto`` gives the bundled character LM to the
    bundled model only, since an LM is written over one model's tokens."""
    from inference.asr_model import BUNDLED_LM, BUNDLED_MODEL

    choice = settings.asr_lm.strip()
    if choice.lower() in ("", "none"):
        return None
    if choice.lower() == "auto":
        bundled = Path(settings.asr_model).resolve() == BUNDLED_MODEL.resolve()
        return str(BUNDLED_LM) if bundled and BUNDLED_LM.is_file() else None
    return choice


def asr_config(settings: Settings):
    from inference.asr import AsrConfig

    return AsrConfig(
        model=settings.asr_model,
        chunk_s=settings.asr_chunk_s,
        overlap_s=settings.asr_overlap_s,
        batch_size=settings.asr_batch_size,
        device=settings.asr_device,
        log_file=settings.log_file,
        decoder=settings.asr_decoder,
        speech_only=settings.asr_speech_only,
        lm=asr_lm(settings),
        lm_alpha=settings.asr_lm_alpha,
        lm_beta=settings.asr_lm_beta,
        beam_size=settings.asr_beam_size,
    )


def _init_worker(config) -> None:
    """Load the model once per process. A load that fails is kept and raised by the first group, so that
    a worker pool reports its one-line message instead of a broken pool."""
    from inference.asr import Transcriber

    if _WORKER.get("config") != config:  # a fanned-out shard's process keeps its model between tasks
        _WORKER.clear()
        try:
            _WORKER["transcriber"] = Transcriber(config)
        except Exception as error:
            _WORKER["error"] = error
        _WORKER["config"] = config


Spans = dict[int, tuple[tuple[float, float], ...]]
"""A recording's spans of speech by channel, as raw.speech_segments holds them."""


def _speech_per_channel(spans: Spans | None, channels: int) -> tuple | None:
    """``CallAudio.speech`` from the stored spans: one tuple per channel of the file (a channel without
    speech has none); None when the analysis stored no spans, so the transcriber finds them itself."""
    if not spans:
        return None
    return tuple(spans.get(channel, ()) for channel in range(channels))


def _stored_speech(conn: psycopg.Connection, shas: list[str]) -> dict[str, Spans]:
    """The newest analysis' spans of speech of each recording in ``shas``."""
    rows = conn.execute(
        """select s.sha256, s.channel, s.start_s, s.end_s
           from raw.speech_segments s
           join raw.current_audio_analysis a using (sha256, detector_version)
           where a.sha256 = any(%s)
           order by s.sha256, s.channel, s.start_s""",
        [shas],
    ).fetchall()
    spans: dict[str, dict[int, list[tuple[float, float]]]] = {}
    for sha, channel, start_s, end_s in rows:
        spans.setdefault(sha, {}).setdefault(channel, []).append((start_s, end_s))
    return {sha: {c: tuple(v) for c, v in by_channel.items()} for sha, by_channel in spans.items()}


def _transcribe_group(
    group: list[tuple[str, str, float, Spans | None]],
) -> tuple[list[tuple[str, list | str]], float]:
    """[(sha256, local path, onset, stored spans)] → ([(sha256, transcripts or error)], seconds of work) in
    one worker."""
    from inference.asr import CallAudio

    started = time.perf_counter()
    if "error" in _WORKER:
        raise _WORKER["error"]
    transcriber = _WORKER["transcriber"]
    calls, results = [], []
    for sha, local, onset, spans in group:
        try:
            samples, rate = soundfile.read(local, dtype="float32", always_2d=False)
        except Exception as exc:  # quarantine, keep going
            results.append((sha, f"{type(exc).__name__}: {exc}"))
            continue
        channels = 1 if samples.ndim == 1 else samples.shape[1]
        speech = _speech_per_channel(spans, channels)
        calls.append(CallAudio(key=sha, samples=samples, sample_rate=rate, onset_s=onset, speech=speech))
    results.extend(transcriber.transcribe_calls(calls))
    return results, time.perf_counter() - started


def _rows(
    sha: str, call_id: str | None, transcripts: list, model_id: str, chunking_id: str
) -> tuple[list[tuple], list[tuple]]:
    if not transcripts:  # nothing to hear after the onset: record it, so a re-run does not try again
        return [(sha, model_id, chunking_id, "mix", call_id, "", None, 0)], []
    transcript_rows, segment_rows = [], []
    for t in transcripts:
        transcript_rows.append(
            (sha, t.model_id, t.chunking_id, t.channel, call_id, t.text, t.confidence, len(t.segments))
        )
        segment_rows.extend(
            (sha, t.model_id, t.chunking_id, t.channel, i, s.start_s, s.end_s, s.text, s.confidence)
            for i, s in enumerate(t.segments)
        )
    return transcript_rows, segment_rows


Job = tuple[str, str, float, Spans | None]  # (sha256, local file, speech onset, stored spans)


class Transcription(Stage[Job]):
    """Items: each recording with speech not yet transcribed by this model and chunking."""

    label = "transcription"

    def __init__(self, database_url: str, settings: Settings, config, model_id: str) -> None:
        self.database_url, self.settings = database_url, settings
        self.config, self.model_id = config, model_id  # the ASR config (asr_config) and its model's id
        self.call_ids: dict[str, str | None] = {}
        self.paths: dict[str, str] = {}

    def pending(self, conn: psycopg.Connection, shard: Shard) -> Work[Job]:
        todo = conn.execute(
            f"""select distinct on (f.sha256) f.sha256, f.audio_path, f.audio_root, f.etag, f.size_bytes,
                      a.speech_onset_s,
                      (select min(c.call_id) from raw.calls c where c.audio_path = f.audio_path)
               from raw.audio_files f
               join raw.current_audio_analysis a on a.sha256 = f.sha256
               where a.speech_onset_s is not null and {shard.sql("f.sha256")}
                 and not exists (select 1 from raw.transcripts t where t.sha256 = f.sha256
                                 and t.model_id = %s and t.chunking_id = %s)
               order by f.sha256, f.audio_path""",
            [self.model_id, self.config.chunking_id],
        ).fetchall()
        (with_speech,) = conn.execute(
            "select count(*) from raw.current_audio_analysis "
            f"where speech_onset_s is not null and {shard.sql('sha256')}"
        ).fetchone()
        speech = _stored_speech(conn, [row[0] for row in todo])
        roots = AudioRoots(self.settings)
        jobs = []
        for sha, audio_path, root_uri, etag, size, onset, call_id in todo:
            local = str(roots.local_path(root_uri, audio_path, etag, size))
            jobs.append((sha, local, float(onset), speech.get(sha)))
            self.call_ids[sha], self.paths[sha] = call_id, audio_path
        return Work(jobs, with_speech - len(todo), self.model_id)

    def process(self, work: Work[Job], shard: Shard, meter: StageMeter, advance: Advance) -> StageResult:
        from inference.devices import resolve_device

        config, jobs = self.config, work.items
        group_size = max(self.settings.asr_batch_size, 8)
        groups = [jobs[i : i + group_size] for i in range(0, len(jobs), group_size)]
        workers = 1 if shard.fanned_out else max(1, min(self.settings.asr_workers, len(groups)))
        on_gpu = resolve_device(config.device) == "cuda"
        rejected = 0
        with limited(GPU_LIMIT) if on_gpu else nullcontext(), ExitStack() as stack:
            if workers > 1:
                pool = stack.enter_context(
                    ProcessPoolExecutor(
                        max_workers=workers,
                        mp_context=get_context("spawn"),
                        initializer=_init_worker,
                        initargs=(config,),
                    )
                )
                outcomes = pool.map(_transcribe_group, groups)
            else:  # in this process (a shard of a fanned-out run, or a single group)
                _init_worker(config)
                outcomes = map(_transcribe_group, groups)
            for results, seconds in outcomes:
                # each group is written as it comes back: a run killed later keeps what it had transcribed
                meter.observe(seconds, len(results))
                rejected += self._write(results, advance, meter)
        done = len(jobs) - rejected
        return finish(
            meter,
            "transcription (%s, shard %s): %d transcribed, %d already known, %d quarantined",
            self.model_id,
            shard,
            done,
            work.done_before,
            rejected,
            processed=done,
            skipped=work.done_before,
            rejected=rejected,
            model_id=self.model_id,
            model=self.model_id,
            device="cuda" if on_gpu else "cpu",
        )

    def _write(self, results: list[tuple[str, list | str]], advance: Advance, meter: StageMeter) -> int:
        """Write one group's transcripts and segments, and quarantine its failures; how many failed."""
        transcript_rows, segment_rows, rejects = [], [], []
        for sha, outcome in results:
            advance()
            if isinstance(outcome, str):
                meter.error()
                rejects.append(Reject(self.paths[sha], "transcription", f"transcription failed: {outcome}"))
                continue
            t_rows, s_rows = _rows(sha, self.call_ids[sha], outcome, self.model_id, self.config.chunking_id)
            transcript_rows.extend(t_rows)
            segment_rows.extend(s_rows)
        write_stage(
            self.database_url,
            [
                ("raw.transcripts", TRANSCRIPT_COLUMNS, transcript_rows),
                ("raw.transcript_segments", SEGMENT_COLUMNS, segment_rows),
            ],
            "transcription",
            rejects,
        )
        return len(rejects)


@stage_task("transcribe")
def transcribe(database_url: str, settings: Settings, shard: Shard) -> StageResult:
    from inference.asr import model_id_for

    config = asr_config(settings)
    if config.model.endswith(".nemo") and not Path(config.model).exists():
        return finish(
            StageMeter(Transcription.label),
            "no ASR model at %s: transcription skipped (make one: callaudit asr train)",
            config.model,
            level=logging.WARNING,
        )
    stage = Transcription(database_url, settings, config, model_id_for(config))
    return run_stage(stage, database_url, shard)
