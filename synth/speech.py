"""espeak-ng wrapper with an in-process cache; returns trimmed float32 audio at a requested rate."""

from __future__ import annotations

import io
import shutil
import subprocess
from math import gcd

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

VOICES: tuple[str, ...] = ("fr", "fr-be", "fr-ch")
_CACHE: dict[tuple[str, str, int, int], tuple[np.ndarray, int]] = {}
SILENCE_REL = 0.01  # a sample is "speech" when |x| exceeds 1% of the utterance peak


def espeak_binary() -> str:
    path = shutil.which("espeak-ng") or "/usr/bin/espeak-ng"
    return path


def espeak_raw(text: str, voice: str, speed: int, pitch: int) -> tuple[np.ndarray, int]:
    """Raw espeak-ng output (float32, native rate), cached per (text, voice, speed, pitch)."""
    key = (text, voice, speed, pitch)
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    proc = subprocess.run(
        [espeak_binary(), "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text],
        check=True,
        capture_output=True,
    )
    data, rate = sf.read(io.BytesIO(proc.stdout), dtype="float32", always_2d=False)
    if data.ndim > 1:
        data = data.mean(axis=1)
    _CACHE[key] = (data, int(rate))
    return _CACHE[key]


def trim(x: np.ndarray, rel: float = SILENCE_REL) -> np.ndarray:
    """Drop leading/trailing silence so that sample 0 is the exact speech onset."""
    if x.size == 0:
        return x
    thr = rel * float(np.abs(x).max())
    idx = np.flatnonzero(np.abs(x) > thr)
    if idx.size == 0:
        return x[:0]
    return x[idx[0] : idx[-1] + 1]


def synthesize(text: str, voice: str, speed: int, pitch: int, rate: int, peak: float = 0.5) -> np.ndarray:
    """Speak text; resample to rate, trim silence, normalise to peak."""
    raw, src = espeak_raw(text, voice, speed, pitch)
    x = raw.astype(np.float64)
    if src != rate:
        g = gcd(src, rate)
        x = resample_poly(x, rate // g, src // g)
    x = trim(x)
    m = float(np.abs(x).max()) if x.size else 0.0
    if m > 0.0:
        x = x * (peak / m)
    return x.astype(np.float32)


def cache_size() -> int:
    return len(_CACHE)
