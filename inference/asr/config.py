"""``AsrConfig``, the transcriber's settings (model, chunking, batching, device, speech spans, optional
n-gram LM), checked when built; its ``chunking_id`` is part of the transcripts' key. ``DECODERS`` are
the decoder choices of a hybrid RNNT-CTC model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from inference.asr_model import BEAM_SIZE, LM_ALPHA, LM_BETA

DECODERS = ("ctc", "rnnt")
"""Decoder choices of a hybrid RNNT-CTC model (``AsrConfig.decoder``); None keeps the checkpoint's own."""


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
    beam_size: int = BEAM_SIZE

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
