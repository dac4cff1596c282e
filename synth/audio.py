"""Pure numpy signal synthesis: tones, ring-back, beeps, SIT, noise, mixing and µ-law companding."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SIT_TONES: tuple[tuple[float, float], ...] = ((913.8, 0.276), (1370.6, 0.276), (1776.7, 0.380))
MU = 255.0


def tone(freq: float, seconds: float, rate: int, amplitude: float = 0.3, fade_s: float = 0.01) -> np.ndarray:
    """A steady sine tone with short raised-cosine fades (no clicks)."""
    n = max(1, int(round(seconds * rate)))
    t = np.arange(n, dtype=np.float64) / rate
    out = amplitude * np.sin(2.0 * np.pi * freq * t)
    nf = min(int(fade_s * rate), n // 2)
    if nf > 0:
        ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, nf))
        out[:nf] *= ramp
        out[-nf:] *= ramp[::-1]
    return out.astype(np.float32)


def white_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(n).astype(np.float32)


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """1/f noise obtained by shaping white noise in the frequency domain (unit variance)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(spec.size, dtype=np.float64)
    f[0] = 1.0
    pink = np.fft.irfft(spec / np.sqrt(f), n)
    std = float(pink.std()) or 1.0
    return (pink / std).astype(np.float32)


def active_power(x: np.ndarray, rate: int, frame_s: float = 0.02, rel_db: float = -40.0) -> float:
    """Mean power over frames whose power is within rel_db of the loudest frame (the 'active' parts)."""
    mono = x if x.ndim == 1 else x.mean(axis=1)
    hop = max(1, int(frame_s * rate))
    nfr = mono.size // hop
    if nfr == 0:
        return 0.0
    frames = mono[: nfr * hop].astype(np.float64).reshape(nfr, hop)
    power = (frames**2).mean(axis=1)
    peak = float(power.max())
    if peak <= 0.0:
        return 0.0
    return float(power[power >= peak * 10 ** (rel_db / 10)].mean())


def add_noise(x: np.ndarray, rate: int, snr_db: float, kind: str, rng: np.random.Generator) -> np.ndarray:
    """Add white or pink noise at snr_db relative to the signal's active parts (each channel independent)."""
    p_sig = active_power(x, rate)
    if p_sig <= 0.0:
        return x
    sigma = np.sqrt(p_sig / 10 ** (snr_db / 10))
    gen = pink_noise if kind == "pink" else white_noise
    if x.ndim == 1:
        return (x + sigma * gen(x.size, rng)).astype(np.float32)
    cols = [x[:, c] + sigma * gen(x.shape[0], rng) for c in range(x.shape[1])]
    return np.stack(cols, axis=1).astype(np.float32)


def limit_peak(x: np.ndarray, peak: float = 0.95) -> np.ndarray:
    m = float(np.abs(x).max()) if x.size else 0.0
    return x if m <= peak else (x * (peak / m)).astype(np.float32)


def mulaw_encode(x: np.ndarray) -> np.ndarray:
    """Continuous µ-law compression of a [-1, 1] signal."""
    x = np.clip(x, -1.0, 1.0)
    return (np.sign(x) * np.log1p(MU * np.abs(x)) / np.log1p(MU)).astype(np.float32)


def mulaw_decode(y: np.ndarray) -> np.ndarray:
    return (np.sign(y) * ((1.0 + MU) ** np.abs(y) - 1.0) / MU).astype(np.float32)


def mulaw_roundtrip(x: np.ndarray, bits: int = 8) -> np.ndarray:
    """Simulate an 8-bit µ-law telephone channel: compress, quantise, expand."""
    levels = 2 ** (bits - 1) - 1
    q = np.round(mulaw_encode(x) * levels) / levels
    return mulaw_decode(q)


@dataclass
class Item:
    start: int
    samples: np.ndarray
    channel: int | None  # None: both channels, 0: agent, 1: customer / network
    kind: str  # ring | beep | sit | speech
    freq: float = 0.0
    text: str = ""


@dataclass
class Timeline:
    """Sequential placement of segments at a fixed sample rate; renders to mono or stereo."""

    rate: int
    pos: int = 0
    items: list[Item] = field(default_factory=list)

    def silence(self, seconds: float) -> None:
        self.pos += int(round(seconds * self.rate))

    def add(
        self, samples: np.ndarray, kind: str, channel: int | None = None, freq: float = 0.0, text: str = ""
    ) -> Item:
        item = Item(self.pos, samples, channel, kind, freq, text)
        self.items.append(item)
        self.pos += samples.size
        return item

    def shift(self, n: int) -> None:
        for item in self.items:
            item.start += n
        self.pos += n

    def render(self, channels: int) -> np.ndarray:
        out = np.zeros((self.pos, channels), dtype=np.float32)
        for it in self.items:
            end = it.start + it.samples.size
            if channels == 1 or it.channel is None:
                out[it.start : end, :] += it.samples[:, None]
            else:
                out[it.start : end, it.channel] += it.samples
        return out[:, 0] if channels == 1 else out
