""":class:`Transcriber`: a NeMo model loaded once, hearing streams of calls. A producer thread cuts and
resamples each call's chunks into a bounded queue; the consumer batches chunks of consecutive calls
through the model (a partial batch after ``flush_timeout_s``), stitches each call's channels and
yields its transcripts as soon as its last chunk is heard. torch is imported when it is built."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from inference.asr.audio import channels_of, chunk_for_model
from inference.asr.chunking import plan_chunks, plan_speech_chunks
from inference.asr.config import AsrConfig
from inference.asr.dialogue import _mean, merge_dialogue
from inference.asr.hypotheses import _hyp_confidence, _hyp_text, _hyp_words, normalize_transcript
from inference.asr.loading import load_model, model_id_for
from inference.asr.stitching import stitch
from inference.asr.types import CallAudio, Segment, Stitched, Transcript, Word
from inference.devices import resolve_device
from inference.library_logs import send_library_logs_to

log = logging.getLogger(__name__)


@dataclass
class _Chunk:
    call: _CallState
    channel: int
    index: int
    start_s: float
    end_s: float
    audio: np.ndarray
    queued_at: float = 0.0


@dataclass
class _ChunkResult:
    start_s: float
    end_s: float
    text: str
    words: list[Word] | None
    confidence: float | None


@dataclass
class _CallState:
    key: str
    channels: list[str]
    n_chunks: int  # over all channels
    results: list[list[_ChunkResult | None]] = field(default_factory=list)  # per channel, per chunk
    remaining: int = 0


@dataclass
class _End:
    pass


@dataclass
class _Failed:
    error: BaseException


def _interleaved(plans: list[list[tuple[int, int]]]) -> Iterator[tuple[int, int, tuple[int, int]]]:
    """``(index, channel, range)`` of every chunk, in time order across channels (batches fill evenly)."""
    items = [(r, ch, i) for ch, plan in enumerate(plans) for i, r in enumerate(plan)]
    for r, ch, i in sorted(items):
        yield i, ch, r


class Transcriber:
    """A NeMo ASR model loaded once, transcribing streams of calls in batches of chunks across calls."""

    def __init__(self, config: AsrConfig) -> None:
        import torch

        self.config = config
        if config.torch_threads is not None:
            torch.set_num_threads(config.torch_threads)
        self.device = torch.device(resolve_device(config.device))

        if config.log_file is not None:
            send_library_logs_to(config.log_file)

        self._model_id = model_id_for(config)  # raises FileNotFoundError for a missing .nemo file
        model = load_model(config, self.device)
        model.eval()
        model.to(self.device)
        self.model = model

        cfg = model.cfg
        rate = None
        if "preprocessor" in cfg and cfg.preprocessor is not None:
            rate = cfg.preprocessor.get("sample_rate")
        if rate is None:
            rate = cfg.get("sample_rate")
        if rate is None:
            raise ValueError(
                "cannot find the model sample rate in cfg.preprocessor.sample_rate or cfg.sample_rate"
            )
        self.sample_rate = int(rate)
        if "sample_rate" not in cfg:  # transcribe() of numpy arrays reads it from cfg or the attribute
            model.sample_rate = self.sample_rate
        # tried first; None after a model refuses them. NeMo's batched beam search computes none: words are
        # timed from the frame of each character it returns, at the encoder's frame rate
        self._timestamps: bool | None = None if config.lm is not None else True
        stride = cfg.preprocessor.get("window_stride") if cfg.get("preprocessor") else None
        factor = cfg.encoder.get("subsampling_factor") if cfg.get("encoder") else None
        self._frame_s = float(stride) * int(factor) if stride and factor else None

    @property
    def model_id(self) -> str:
        return self._model_id

    # -- model call -------------------------------------------------------------------------------

    def _run_model(self, arrays: list[np.ndarray]) -> list[Any]:
        import torch

        autocast = (
            torch.autocast("cuda", dtype=torch.bfloat16) if self.device.type == "cuda" else nullcontext()
        )
        with torch.inference_mode(), autocast:
            try:
                out = self.model.transcribe(
                    arrays,
                    batch_size=len(arrays),
                    return_hypotheses=True,
                    timestamps=self._timestamps,
                    verbose=False,
                )
            except Exception:
                if self._timestamps is None:
                    raise
                log.warning("model refused timestamps=True; stitching chunk texts instead", exc_info=True)
                self._timestamps = None
                out = self.model.transcribe(
                    arrays, batch_size=len(arrays), return_hypotheses=True, verbose=False
                )
        if isinstance(out, tuple):  # (best, all) for some decoders
            out = out[0]
        hyps = list(out)
        if len(hyps) != len(arrays):
            raise RuntimeError(f"model returned {len(hyps)} hypotheses for {len(arrays)} inputs")
        return hyps

    def _run_batch(self, batch: list[_Chunk]) -> list[_CallState]:
        hyps = self._run_model([c.audio for c in batch])
        done: list[_CallState] = []
        for chunk, hyp in zip(batch, hyps, strict=True):
            chunk.audio = np.empty(0, np.float32)  # release the audio as soon as it is used
            state = chunk.call
            state.results[chunk.channel][chunk.index] = _ChunkResult(
                start_s=chunk.start_s,
                end_s=chunk.end_s,
                text=normalize_transcript(_hyp_text(hyp)),
                words=_hyp_words(hyp, chunk.start_s, chunk.end_s - chunk.start_s, self._frame_s),
                confidence=_hyp_confidence(hyp),
            )
            state.remaining -= 1
            if state.remaining == 0:
                done.append(state)
        return done

    # -- producer ---------------------------------------------------------------------------------

    def chunk_plan(self, call: CallAudio, lengths: list[int]) -> list[list[tuple[int, int]]]:
        """Per channel (``lengths``: each channel's sample count), the sample ranges the model hears (see
        ``AsrConfig.speech_only``)."""
        cfg = self.config
        if call.onset_s is None or not lengths or lengths[0] == 0:
            return [[] for _ in lengths]
        if not cfg.speech_only:
            plan = plan_chunks(lengths[0], call.sample_rate, call.onset_s, cfg.chunk_s, cfg.overlap_s)
            return [plan for _ in lengths]
        speech = call.speech
        if speech is None:
            from inference.audio_analysis import analyse

            speech = analyse(call.samples, call.sample_rate).speech_segments
        if len(speech) < len(lengths):  # fewer channels analysed than heard: every channel gets them all
            union = tuple(span for channel in speech for span in channel)
            speech = tuple(union for _ in lengths)
        cut = (cfg.chunk_s, cfg.overlap_s, cfg.speech_pad_s, cfg.speech_join_s, call.onset_s)
        return [
            plan_speech_chunks(spans, n, call.sample_rate, *cut)
            for spans, n in zip(speech, lengths, strict=False)
        ]

    def _produce(self, calls: Iterable[CallAudio], out: queue.Queue, stop: threading.Event) -> None:
        """Background thread: read calls, cut and resample their chunks, and queue them (bounded queue)."""

        def put(item: object) -> bool:
            while not stop.is_set():
                try:
                    out.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        try:
            for call in calls:
                channels = channels_of(call.samples)
                plans = self.chunk_plan(call, [len(samples) for _, samples in channels])
                total = sum(len(plan) for plan in plans)
                state = _CallState(
                    key=call.key,
                    channels=[name for name, _ in channels],
                    n_chunks=total,
                    results=[[None] * len(plan) for plan in plans],
                    remaining=total,
                )
                if not put(state):
                    return
                for index, ch, (start, end) in _interleaved(plans):
                    samples = channels[ch][1]
                    audio = chunk_for_model(samples, start, end, call.sample_rate, self.sample_rate)
                    chunk = _Chunk(
                        call=state,
                        channel=ch,
                        index=index,
                        start_s=start / call.sample_rate,
                        end_s=end / call.sample_rate,
                        audio=audio,
                    )
                    if not put(chunk):
                        return
            put(_End())
        except BaseException as error:  # handed to the consumer, which re-raises it
            put(_Failed(error))

    # -- results ----------------------------------------------------------------------------------

    def _segments(self, stitched: Stitched, results: list[_ChunkResult]) -> tuple[Segment, ...]:
        def confidence(start: float, end: float) -> float | None:
            overlapping = [r.confidence for r in results if r.start_s <= end and r.end_s >= start]
            return _mean(overlapping)

        if not stitched.word_level:
            return tuple(Segment(s, e, text, confidence(s, e)) for s, e, text in stitched.units)
        groups: list[list[Word]] = []
        for word in stitched.units:
            if (
                groups
                and word[0] - groups[-1][-1][1] < self.config.pause_s
                and word[0] - groups[-1][0][0] < self.config.max_segment_s
            ):
                groups[-1].append(word)
            else:
                groups.append([word])
        return tuple(
            Segment(g[0][0], max(w[1] for w in g), " ".join(w[2] for w in g), confidence(g[0][0], g[-1][1]))
            for g in groups
        )

    def _transcripts(self, state: _CallState) -> list[Transcript]:
        if state.n_chunks == 0:
            return []
        cfg = self.config
        transcripts: list[Transcript] = []
        for channel, chunk_results in zip(state.channels, state.results, strict=True):
            results = [r for r in chunk_results if r is not None]
            stitched = stitch(
                [(r.start_s, r.end_s, r.text, r.words) for r in results],
                cfg.overlap_s,
                cfg.max_overlap_words,
            )
            weights = [(r.end_s - r.start_s, r.confidence) for r in results if r.confidence is not None]
            total = sum(w for w, _ in weights)
            conf = float(sum(w * c for w, c in weights) / total) if total > 0 else None
            transcripts.append(
                Transcript(
                    channel=channel,
                    text=stitched.text,
                    segments=self._segments(stitched, results),
                    confidence=conf,
                    model_id=self.model_id,
                    chunking_id=cfg.chunking_id,
                )
            )
        if len(transcripts) == 2:
            transcripts.append(merge_dialogue(transcripts[0], transcripts[1]))
        return transcripts

    # -- public -----------------------------------------------------------------------------------

    def transcribe_calls(self, calls: Iterable[CallAudio]) -> Iterator[tuple[str, list[Transcript]]]:
        """Yield ``(key, transcripts)`` for each call as soon as all its chunks are transcribed.

        Mono: ``[mix]``; stereo: ``[agent, customer, dialogue]`` (a channel without speech has an empty
        text); no onset, or no speech to hear on any channel: ``[]``.
        Calls come out in the order they finish, which is their input order except that a call without
        chunks is yielded as soon as it is read. Chunks of consecutive calls share batches of
        ``batch_size``; a partial batch runs once its oldest chunk has waited ``flush_timeout_s`` for more.
        """
        cfg = self.config
        inbox: queue.Queue = queue.Queue(maxsize=max(2, 2 * cfg.batch_size))
        stop = threading.Event()
        producer = threading.Thread(
            target=self._produce, args=(calls, inbox, stop), name="asr-chunker", daemon=True
        )
        producer.start()
        pending: list[_Chunk] = []
        try:
            while True:
                timeout = None
                if pending:
                    timeout = max(0.0, pending[0].queued_at + cfg.flush_timeout_s - time.monotonic())
                try:
                    item = inbox.get(timeout=timeout)
                except queue.Empty:
                    batch, pending = pending, []
                    for state in self._run_batch(batch):
                        yield state.key, self._transcripts(state)
                    continue
                if isinstance(item, _Failed):
                    raise item.error
                if isinstance(item, _End):
                    if pending:
                        batch, pending = pending, []
                        for state in self._run_batch(batch):
                            yield state.key, self._transcripts(state)
                    return
                if isinstance(item, _CallState):
                    if item.remaining == 0:
                        yield item.key, []
                    continue
                item.queued_at = time.monotonic()
                pending.append(item)
                if len(pending) >= cfg.batch_size:
                    batch, pending = pending, []
                    for state in self._run_batch(batch):
                        yield state.key, self._transcripts(state)
        finally:
            stop.set()
            producer.join(timeout=5)
