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

The package, one module per job: ``types`` (Word, Piece, CallAudio, Segment, Transcript, Stitched, the
channel names), ``config`` (AsrConfig, its chunking id), ``chunking`` (which sample ranges the model
hears), ``audio`` (channels, float32, resampled chunks), ``stitching`` (chunk texts joined), ``hypotheses``
(NeMo's hypotheses read: normalised text, timed words, confidence), ``dialogue`` (two channels merged),
``loading`` (the model's id and loading it) and ``transcriber`` (``Transcriber``, the face). Importing the
package loads neither torch nor NeMo.
"""

from __future__ import annotations

from inference.asr.audio import MIN_MODEL_INPUT_S, RESAMPLE_MARGIN, channels_of, chunk_for_model, to_float32
from inference.asr.chunking import plan_chunks, plan_speech_chunks
from inference.asr.config import DECODERS, AsrConfig
from inference.asr.dialogue import merge_dialogue
from inference.asr.hypotheses import _hyp_text, _hyp_words, _words_from_frames, normalize_transcript
from inference.asr.loading import AsrModelError, load_model, model_id_for
from inference.asr.stitching import stitch
from inference.asr.transcriber import Transcriber
from inference.asr.types import (
    CHANNEL_NAMES,
    DIALOGUE_LABELS,
    CallAudio,
    Piece,
    Segment,
    Stitched,
    Transcript,
    Word,
)

__all__ = [
    "CHANNEL_NAMES",
    "DECODERS",
    "DIALOGUE_LABELS",
    "MIN_MODEL_INPUT_S",
    "RESAMPLE_MARGIN",
    "AsrConfig",
    "AsrModelError",
    "CallAudio",
    "Piece",
    "Segment",
    "Stitched",
    "Transcriber",
    "Transcript",
    "Word",
    "_hyp_text",
    "_hyp_words",
    "_words_from_frames",
    "channels_of",
    "chunk_for_model",
    "load_model",
    "merge_dialogue",
    "model_id_for",
    "normalize_transcript",
    "plan_chunks",
    "plan_speech_chunks",
    "stitch",
    "to_float32",
]
