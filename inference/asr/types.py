"""The ASR data types: ``Word`` and ``Piece`` (a timed word, a chunk's result), the channel names and
dialogue labels, and the frozen dataclasses that go in and out of the transcriber (``CallAudio``,
``Segment``, ``Transcript``) and between its steps (``Stitched``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Word = tuple[float, float, str]
"""(start_s, end_s, word) in call time."""
Piece = tuple[float, float, str, list[Word] | None]
"""(chunk_start_s, chunk_end_s, text, words or None) for one chunk, in call time."""

CHANNEL_NAMES = ("agent", "customer")
DIALOGUE_LABELS = {"agent": "agent", "customer": "client"}


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
