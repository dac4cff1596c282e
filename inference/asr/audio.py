"""Audio prepared for the model: PCM of any dtype as float32 (:func:`to_float32`), a recording's
channels by name (:func:`channels_of`: mix, or agent and customer), and one chunk resampled to the
model's rate with a little context and padded to the model's shortest input (:func:`chunk_for_model`)."""

from __future__ import annotations

import logging
import math

import numpy as np
from scipy.signal import resample_poly

from inference.asr.types import CHANNEL_NAMES

log = logging.getLogger(__name__)

MIN_MODEL_INPUT_S = 1.0  # NeMo pads shorter inputs on BOTH sides, which would shift timestamps
RESAMPLE_MARGIN = 64  # native samples of context either side of a chunk when resampling it


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
