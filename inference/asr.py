"""Speech recognition for call recordings with a NeMo model (CTC, or any NeMo ASR model with ``transcribe``).

Each channel of a call is heard where it has speech: the call-progress detector's voice-activity spans
(after the last tone), padded and joined, and cut into chunks that overlap a little when a span is longer
than a chunk (25 s / 0.5 s by default); ``AsrConfig.speech_only=False`` hears whole channels from the speech
onset instead. Chunks of many calls are batched together through the model, and each call's chunk texts
are stitched back without repeating the overlap. Stereo recordings are transcribed per channel (0 = agent,
1 = customer) and merged into a turn-ordered dialogue.

The pure helpers (:func:`plan_chunks`, :func:`plan_speech_chunks`, :func:`stitch`, :func:`merge_dialogue`)
need neither torch nor NeMo;
:class:`Transcriber` imports NeMo when it is built (that import alone takes tens of seconds).
"""

from __future__ import annotations

import logging
import math
import queue
import re
import tarfile
import threading
import time
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy.signal import resample_poly

from inference.asr_model import LM_ALPHA, LM_BETA
from inference.devices import resolve_device
from inference.hashing import file_sha256
from inference.library_logs import send_library_logs_to
from inference.text import APOSTROPHES

log = logging.getLogger(__name__)

Word = tuple[float, float, str]
"""(start_s, end_s, word) in call time."""
Piece = tuple[float, float, str, list[Word] | None]
"""(chunk_start_s, chunk_end_s, text, words or None) for one chunk, in call time."""

CHANNEL_NAMES = ("agent", "customer")
DIALOGUE_LABELS = {"agent": "agent", "customer": "client"}
MIN_MODEL_INPUT_S = 1.0  # NeMo pads shorter inputs on BOTH sides, which would shift timestamps
RESAMPLE_MARGIN = 64  # native samples of context either side of a chunk when resampling it
DECODERS = ("ctc", "rnnt")
"""Decoder choices of a hybrid RNNT-CTC model (``AsrConfig.decoder``); None keeps the checkpoint's own."""


class AsrModelError(RuntimeError):
    """An ASR model that cannot be loaded; the message is one line naming the model and what is missing."""


# --------------------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class AsrConfig:
    model: str
    """Path to a ``.nemo`` file, or a pretrained name (loading by name needs the model hub)."""
    chunk_s: float = 25.0
    overlap_s: float = 0.5
    batch_size: int = 8
    flush_timeout_s: float = 0.5
    """Run a partial batch once its oldest chunk has waited this long for more input."""
    device: str = "auto"
    torch_threads: int | None = 1
    pause_s: float = 0.6
    """With word timestamps, a silence at least this long between words starts a new segment."""
    max_segment_s: float = 15.0
    """With word timestamps, a segment longer than this is closed at the next word."""
    max_overlap_words: int = 8
    """Longest suffix/prefix match tried when stitching chunks without word timestamps."""
    log_file: Path | None = None
    """Where NeMo's own logs go (config dumps, telemetry notices); None leaves them on the terminal."""
    decoder: str | None = None
    """``ctc`` or ``rnnt`` for a hybrid RNNT-CTC model; None keeps the checkpoint's own decoder."""
    speech_only: bool = True
    """Give the model only the spans where each channel has speech (the call-progress detector's voice
    activity), not the whole channel from the onset: a CTC model fed long stretches of line noise or
    silence writes letters for them, and a stereo channel is mostly silence while the other side talks."""
    speech_pad_s: float = 0.3
    """Audio kept on each side of a speech span (word edges the detector trims)."""
    speech_join_s: float = 1.0
    """Speech spans of a channel closer than this (after padding) are heard as one piece."""
    lm: str | None = None
    """An ARPA n-gram LM over the model's tokens (``training/asr_lm.py``): CTC beam search (NeMo's
    ``beam_batch``) scored with it instead of greedy decoding. None: greedy."""
    lm_alpha: float = LM_ALPHA
    """Weight of the LM's log probability against the acoustic model's."""
    lm_beta: float = LM_BETA
    """Bonus per emitted token (NeMo's ``beam_beta``): offsets the LM's preference for short outputs."""
    beam_size: int = 8

    def __post_init__(self) -> None:
        if self.chunk_s <= 0 or self.overlap_s < 0 or self.overlap_s >= self.chunk_s:
            raise ValueError(f"need 0 <= overlap_s < chunk_s, got {self.overlap_s=} {self.chunk_s=}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.flush_timeout_s < 0:
            raise ValueError(f"flush_timeout_s must be >= 0, got {self.flush_timeout_s}")
        if self.decoder is not None and self.decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {DECODERS} or unset, got {self.decoder!r}")
        if self.lm is not None and self.beam_size < 1:
            raise ValueError(f"beam_size must be >= 1, got {self.beam_size}")
        if self.speech_pad_s < 0 or self.speech_join_s < 0:
            raise ValueError(
                f"need speech_pad_s, speech_join_s >= 0, got {self.speech_pad_s}, {self.speech_join_s}"
            )

    @property
    def chunking_id(self) -> str:
        """Part of the transcripts' key: how the audio was cut for the model."""
        base = f"c{self.chunk_s:.1f}-o{self.overlap_s:.1f}"
        if self.speech_only:
            base += f"-sp{self.speech_pad_s:.1f}-j{self.speech_join_s:.1f}"
        return base


@dataclass(frozen=True)
class Segment:
    start_s: float
    end_s: float
    text: str
    confidence: float | None


@dataclass(frozen=True)
class Transcript:
    channel: str  # "mix" | "agent" | "customer" | "dialogue"
    text: str
    segments: tuple[Segment, ...]
    confidence: float | None
    model_id: str
    chunking_id: str


@dataclass(frozen=True)
class CallAudio:
    key: str
    samples: np.ndarray  # (n,) or (n, channels), any numeric dtype
    sample_rate: int
    onset_s: float | None  # None: no speech, no transcript
    speech: tuple[tuple[tuple[float, float], ...], ...] | None = None
    """Per channel, ``(start_s, end_s)`` spans of speech (``AudioAnalysis.speech_segments``); None: the
    transcriber finds them itself when ``AsrConfig.speech_only``."""


@dataclass(frozen=True)
class Stitched:
    """A channel's chunks joined: the text and its units (timestamped words, or deduplicated chunk texts)."""

    text: str
    units: tuple[Word, ...]
    word_level: bool


# ---------------------------------------------------------------------------------- pure helpers


def plan_chunks(
    n_samples: int, rate: int, onset_s: float | None, chunk_s: float, overlap_s: float
) -> list[tuple[int, int]]:
    """Sample ranges ``[start, end)`` of the chunks from the onset to the end; the last one may be shorter.

    Consecutive chunks share ``overlap_s`` of audio. ``[]`` when there is no onset or no audio after it.
    """
    if onset_s is None or n_samples <= 0:
        return []
    if overlap_s < 0 or overlap_s >= chunk_s:
        raise ValueError(f"need 0 <= overlap_s < chunk_s, got {overlap_s=} {chunk_s=}")
    start = max(0, round(onset_s * rate))
    size = max(1, round(chunk_s * rate))
    step = max(1, size - round(overlap_s * rate))
    chunks: list[tuple[int, int]] = []
    while start < n_samples:
        end = min(start + size, n_samples)
        chunks.append((start, end))
        if end >= n_samples:
            break
        start += step
    return chunks


def plan_speech_chunks(
    spans: Sequence[tuple[float, float]],
    n_samples: int,
    rate: int,
    chunk_s: float,
    overlap_s: float,
    pad_s: float,
    join_s: float,
    floor_s: float = 0.0,
) -> list[tuple[int, int]]:
    """Sample ranges ``[start, end)`` covering a channel's speech spans: each span widened by ``pad_s``
    (never before ``floor_s``, the speech onset: what precedes it is ringing or a beep), spans closer than
    ``join_s`` joined, and a region longer than ``chunk_s`` cut like :func:`plan_chunks`. ``[]`` when the
    channel has no speech."""
    regions: list[list[float]] = []
    for start, end in sorted(spans):
        lo, hi = max(0.0, floor_s, start - pad_s), min(n_samples / rate, end + pad_s)
        if hi <= lo:
            continue
        if regions and lo - regions[-1][1] <= join_s:
            regions[-1][1] = max(regions[-1][1], hi)
        else:
            regions.append([lo, hi])
    chunks: list[tuple[int, int]] = []
    for lo, hi in regions:
        end = min(n_samples, round(hi * rate))
        chunks.extend(plan_chunks(end, rate, lo, chunk_s, overlap_s))
    return chunks


_NORM = re.compile(r"[^\w']+")
_NOT_WORD = re.compile(r"[^\w']+|_")


def normalize_transcript(text: str) -> str:
    """ASR output as the downstream stages expect it: NFC, lower case, apostrophes unified, punctuation
    and symbols turned into spaces, single spaces. Checkpoints trained on cased, punctuated text
    (``…_pc`` models, Parakeet) then read like the bundled model's output, which this leaves unchanged."""
    text = unicodedata.normalize("NFC", text).casefold().translate(APOSTROPHES)
    return " ".join(_NOT_WORD.sub(" ", text).split())


def _norm_word(word: str) -> str:
    return _NORM.sub("", word.casefold())


def _overlap_len(previous: Sequence[str], current: Sequence[str], max_words: int) -> int:
    """Length of the longest suffix of ``previous`` equal to a prefix of ``current`` (≤ max_words)."""
    a = [_norm_word(w) for w in previous[-max_words:]]
    b = [_norm_word(w) for w in current[:max_words]]
    for k in range(min(len(a), len(b)), 0, -1):
        if a[-k:] == b[:k] and any(a[-k:]):
            return k
    return 0


def stitch(pieces: list[Piece], overlap_s: float, max_words: int = 8) -> Stitched:
    """Join chunk results in order without repeating what two consecutive chunks both heard.

    ``pieces``: ``(chunk_start_s, chunk_end_s, text, words)`` in chunk order, times in call time; ``words``
    is ``[(start_s, end_s, word), ...]`` or ``None`` when the model gave no timestamps.

    Where both chunks of a boundary have word timestamps, the boundary is cut at the middle of their
    overlap: the earlier chunk keeps the words that start before it, the later one the words that start
    at or after it. Elsewhere the later chunk loses the longest prefix (≤ ``max_words`` words) that repeats
    the end of the text so far.
    """
    if not pieces:
        return Stitched("", (), False)
    timed = [p[3] is not None for p in pieces]
    # Cut points at the overlap midpoints of timestamped boundaries.
    cuts: list[float | None] = []
    for k in range(len(pieces) - 1):
        if timed[k] and timed[k + 1]:
            overlap = max(0.0, pieces[k][1] - pieces[k + 1][0])
            overlap = min(overlap, overlap_s) if overlap_s > 0 else overlap
            cuts.append(pieces[k + 1][0] + overlap / 2)
        else:
            cuts.append(None)

    out_words: list[str] = []
    units: list[Word] = []
    for k, (start, end, text, words) in enumerate(pieces):
        lo = cuts[k - 1] if k > 0 else None
        hi = cuts[k] if k < len(cuts) else None
        if words is not None:
            kept = [
                (ws, we, w)
                for ws, we, w in words
                if w.strip() and (lo is None or ws >= lo) and (hi is None or ws < hi)
            ]
            if lo is None and k > 0 and start < pieces[k - 1][1]:  # untimed overlap: match the text
                drop = _overlap_len(out_words, [w for _, _, w in kept], max_words)
                kept = kept[drop:]
            units.extend(kept)
            out_words.extend(w for _, _, w in kept)
        else:
            tokens = text.split()
            if k > 0 and start < pieces[k - 1][1]:  # only audio both chunks heard can repeat
                tokens = tokens[_overlap_len(out_words, tokens, max_words) :]
            if tokens:
                units.append((start, end, " ".join(tokens)))
                out_words.extend(tokens)
    return Stitched(" ".join(out_words), tuple(units), all(timed))


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return float(sum(present) / len(present)) if present else None


def merge_dialogue(agent: Transcript, customer: Transcript) -> Transcript:
    """One transcript of both sides, ordered by segment start: consecutive segments of one speaker make a
    turn, written ``"agent: …"`` or ``"client: …"``, one turn a line."""
    tagged = sorted(
        [(s.start_s, 0, s) for s in agent.segments] + [(s.start_s, 1, s) for s in customer.segments],
        key=lambda item: (item[0], item[1]),
    )
    turns: list[tuple[int, list[Segment]]] = []
    for _, side, seg in tagged:
        if not seg.text.strip():
            continue
        if turns and turns[-1][0] == side:
            turns[-1][1].append(seg)
        else:
            turns.append((side, [seg]))
    labels = (DIALOGUE_LABELS["agent"], DIALOGUE_LABELS["customer"])
    segments = tuple(
        Segment(
            start_s=segs[0].start_s,
            end_s=max(s.end_s for s in segs),
            text=f"{labels[side]}: " + " ".join(s.text for s in segs),
            confidence=_mean(s.confidence for s in segs),
        )
        for side, segs in turns
    )
    return Transcript(
        channel="dialogue",
        text="\n".join(s.text for s in segments),
        segments=segments,
        confidence=_mean([agent.confidence, customer.confidence]),
        model_id=agent.model_id,
        chunking_id=agent.chunking_id,
    )


# ----------------------------------------------------------------------------------- audio prep


def to_float32(samples: np.ndarray) -> np.ndarray:
    """PCM of any dtype as float32 in [-1, 1] (floats are kept as they are)."""
    a = np.asarray(samples)
    if a.dtype.kind == "f":
        return a.astype(np.float32, copy=False)
    if a.dtype.kind == "i":
        return (a.astype(np.float32) / float(2 ** (8 * a.dtype.itemsize - 1))).astype(np.float32)
    if a.dtype.kind == "u":
        half = float(2 ** (8 * a.dtype.itemsize - 1))
        return ((a.astype(np.float32) - half) / half).astype(np.float32)
    if a.dtype.kind == "b":
        return a.astype(np.float32)
    raise TypeError(f"unsupported sample dtype {a.dtype}")


def channels_of(samples: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """``[("mix", x)]`` for mono, ``[("agent", ch0), ("customer", ch1)]`` for stereo (views, no copies)."""
    a = np.asarray(samples)
    if a.ndim == 1:
        return [("mix", a)]
    if a.ndim != 2:
        raise ValueError(f"samples must be (n,) or (n, channels), got shape {a.shape}")
    if a.shape[1] == 1:
        return [("mix", a[:, 0])]
    if a.shape[1] > 2:
        log.warning("%d channels: only channel 0 (agent) and 1 (customer) are transcribed", a.shape[1])
    return [(name, a[:, i]) for i, name in enumerate(CHANNEL_NAMES)]


def chunk_for_model(channel: np.ndarray, start: int, end: int, rate: int, model_rate: int) -> np.ndarray:
    """One chunk as float32 at the model rate, resampled with a little context on either side so that the
    chunk edges are clean; right-padded with silence to at least ``MIN_MODEL_INPUT_S``."""
    if rate == model_rate:
        out = to_float32(channel[start:end]).copy()
    else:
        g = math.gcd(rate, model_rate)
        up, down = model_rate // g, rate // g
        left = min(start, RESAMPLE_MARGIN)
        right = min(len(channel) - end, RESAMPLE_MARGIN)
        piece = to_float32(channel[start - left : end + right])
        res = resample_poly(piece, up, down).astype(np.float32, copy=False)
        skip = round(left * up / down)
        out = np.ascontiguousarray(res[skip : skip + round((end - start) * up / down)])
    minimum = math.ceil(MIN_MODEL_INPUT_S * model_rate)
    if len(out) < minimum:
        out = np.concatenate([out, np.zeros(minimum - len(out), np.float32)])
    return out


# ------------------------------------------------------------------------------- hypothesis read


def _hyp_text(hyp: Any) -> str:
    text = hyp.text if hasattr(hyp, "text") else hyp
    return text if isinstance(text, str) else ""


def _hyp_words(
    hyp: Any, offset_s: float, chunk_len_s: float, frame_s: float | None = None
) -> list[Word] | None:
    """Word timestamps of a hypothesis in call time, or None when the model gave none."""
    stamps = getattr(hyp, "timestamp", None)
    if not isinstance(stamps, dict):  # batched beam search: one encoder frame per character, no words
        if frame_s is not None and isinstance(stamps, np.ndarray | list) and len(stamps):
            return _words_from_frames(
                _hyp_text(hyp), [int(f) for f in stamps], frame_s, offset_s, chunk_len_s
            )
        stamps = getattr(hyp, "timestep", None)
    if not isinstance(stamps, dict) or not isinstance(stamps.get("word"), list):
        return None
    words: list[Word] = []
    for item in stamps["word"]:
        if not isinstance(item, dict) or "start" not in item or "end" not in item:
            return None
        start = min(max(float(item["start"]), 0.0), chunk_len_s)
        end = min(max(float(item["end"]), start), chunk_len_s)
        word = normalize_transcript(str(item.get("word", "")))
        if word:  # a punctuation token alone is no word
            words.append((offset_s + start, offset_s + end, word))
    if not words and normalize_transcript(_hyp_text(hyp)):
        return None  # text without timestamps: not usable as word-level
    return words


def _words_from_frames(
    text: str, frames: list[int], frame_s: float, offset_s: float, chunk_len_s: float
) -> list[Word] | None:
    """Words of a character model's text with the encoder frame of each character (what NeMo's batched CTC
    beam search returns): a word runs from its first character's frame to the end of its last one's, as
    NeMo's greedy word offsets do. None when text and frames do not pair one to one."""
    if len(text) != len(frames):
        return None
    words: list[Word] = []
    for match in re.finditer(r"\S+", text):
        word = normalize_transcript(match.group())
        if word:
            begin = min(frames[match.start()] * frame_s, chunk_len_s)
            end = min(max((frames[match.end() - 1] + 1) * frame_s, begin), chunk_len_s)
            words.append((offset_s + begin, offset_s + end, word))
    return words


def _hyp_confidence(hyp: Any) -> float | None:
    """0..1: mean token/word confidence when NeMo computed it, else the geometric mean of the per-frame best
    probability (CTC log-probs), else exp(score / tokens)."""
    for name in ("token_confidence", "word_confidence", "frame_confidence"):
        values = getattr(hyp, name, None)
        if values:
            try:
                flat = np.asarray([float(v) for v in values], dtype=np.float64)
            except (TypeError, ValueError):
                continue
            if flat.size:
                return float(np.clip(flat.mean(), 0.0, 1.0))
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        torch = None  # type: ignore[assignment]
    seq = getattr(hyp, "y_sequence", None)
    if torch is not None and isinstance(seq, torch.Tensor) and seq.ndim == 2 and seq.is_floating_point():
        if seq.shape[0] == 0:
            return None
        best = seq.float().max(dim=-1).values
        if float(best.max()) > 0:  # probabilities, not log-probabilities
            best = best.clamp_min(1e-12).log()
        return float(np.clip(math.exp(float(best.mean())), 0.0, 1.0))
    score = getattr(hyp, "score", None)
    n = len(seq) if seq is not None and hasattr(seq, "__len__") else 0
    if score is not None and n > 0:
        value = float(score)
        if math.isfinite(value):
            return float(np.clip(math.exp(value / n), 0.0, 1.0))
    return None


# ------------------------------------------------------------------------------------ transcriber


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


def _is_model_file(model: str) -> bool:
    path = Path(model)
    return path.suffix == ".nemo" or path.exists()


@lru_cache(maxsize=16)
def _hashed_id(path: str, size: int, mtime_ns: int) -> str:
    return f"{Path(path).name}@{file_sha256(path)[:12]}"


def model_id_for(config: AsrConfig) -> str:
    """The model's identity without loading it: ``<file name>@<sha256[:12]>`` of a ``.nemo`` file (so a
    retrained file gets a new id), or the pretrained name; ``+ctc`` / ``+rnnt`` when a hybrid model's
    decoder is chosen. Part of the transcripts' idempotency key."""
    suffix = f"+{config.decoder}" if config.decoder else ""
    if config.lm is not None:
        lm = Path(config.lm)
        if not lm.is_file():
            raise FileNotFoundError(f"ASR language model {config.lm}: file not found")
        suffix += f"+{_file_id(lm)}-a{config.lm_alpha:g}-w{config.lm_beta:g}-b{config.beam_size}"
    if not _is_model_file(config.model):
        return config.model + suffix
    path = Path(config.model)
    if not path.exists():
        raise FileNotFoundError(f"ASR model {config.model}: file not found")
    if not path.is_file():
        raise AsrModelError(
            f"ASR model {config.model}: not a .nemo file (a {'folder' if path.is_dir() else 'special file'})"
        )
    return _file_id(path) + suffix


def _file_id(path: Path) -> str:
    """``<file name>@<sha256[:12]>``, hashed once per (path, size, mtime)."""
    stat = path.stat()
    return _hashed_id(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0][:200]}" if lines else type(error).__name__


def load_model(config: AsrConfig, device: Any) -> Any:
    """The NeMo model of ``config.model`` on ``device``, its decoder set to ``config.decoder`` when given.

    Raises :class:`FileNotFoundError` (no such file) or :class:`AsrModelError` (not a NeMo checkpoint, a
    pretrained name the hub cannot give, a decoder the model lacks), each with a one-line message.
    """
    from nemo.collections.asr.models import ASRModel

    name = config.model
    if _is_model_file(name):
        path = Path(name)
        if not path.exists():
            raise FileNotFoundError(f"ASR model {name}: file not found")
        if not tarfile.is_tarfile(path):
            raise AsrModelError(f"ASR model {name}: not a .nemo checkpoint (a .nemo file is a tar archive)")
        try:  # instantiates the class saved in the file (EncDecCTCModel for the bundled model)
            model = ASRModel.restore_from(name, map_location=device)
        except Exception as error:
            raise AsrModelError(
                f"ASR model {name}: cannot be restored as a NeMo ASR model ({_first_line(error)})"
            ) from error
    else:
        try:
            model = ASRModel.from_pretrained(name, map_location=device)
        except Exception as error:
            raise AsrModelError(
                f"ASR model {name}: no such .nemo file, and the model hub could not give a pretrained "
                f"model of that name (no hub access, or an unknown name; {_first_line(error)})"
            ) from error
    if config.decoder is not None:
        if not hasattr(model, "cur_decoder"):
            raise AsrModelError(
                f"ASR model {name}: decoder={config.decoder} needs a hybrid RNNT-CTC model, "
                f"this one is {type(model).__name__} (leave the decoder unset)"
            )
        model.change_decoding_strategy(decoder_type=config.decoder, verbose=False)
    if config.lm is not None:
        _use_language_model(model, config)
    return model


def _use_language_model(model: Any, config: AsrConfig) -> None:
    """CTC beam search with the n-gram LM of ``config.lm`` (NeMo's ``beam_batch``: CPU or GPU, batched)."""
    from omegaconf import OmegaConf, open_dict

    if "decoding" not in model.cfg or not hasattr(model, "change_decoding_strategy"):
        raise AsrModelError(f"ASR model {config.model}: has no CTC decoding to add a language model to")
    decoding = OmegaConf.create(OmegaConf.to_container(model.cfg.decoding))
    with open_dict(decoding):
        decoding.strategy = "beam_batch"
        decoding.beam = {
            "beam_size": config.beam_size,
            "ngram_lm_model": str(config.lm),
            "ngram_lm_alpha": config.lm_alpha,
            "beam_beta": config.lm_beta,
            "return_best_hypothesis": True,
        }
    try:
        model.change_decoding_strategy(decoding, verbose=False)
    except Exception as error:
        raise AsrModelError(
            f"ASR language model {config.lm}: cannot be used with {config.model} ({_first_line(error)})"
        ) from error


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
