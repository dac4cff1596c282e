"""Reading NeMo's hypotheses: the text normalised as downstream stages expect it
(:func:`normalize_transcript`), word timestamps in call time (from NeMo's word offsets, or from the
frame of each character that batched beam search returns) and a 0..1 confidence."""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

import numpy as np

from inference.asr.types import Word
from inference.text import APOSTROPHES

_NOT_WORD = re.compile(r"[^\w']+|_")


def normalize_transcript(text: str) -> str:
    """ASR output as the downstream stages expect it: NFC, lower case, apostrophes unified, punctuation
    and symbols turned into spaces, single spaces. Checkpoints trained on cased, punctuated text
    (``…_pc`` models, Parakeet) then read like the bundled model's output, which this leaves unchanged."""
    text = unicodedata.normalize("NFC", text).casefold().translate(APOSTROPHES)
    return " ".join(_NOT_WORD.sub(" ", text).split())


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
