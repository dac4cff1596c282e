"""Call-progress analysis of one recording: ring-back, voicemail beep, SIT tones, speech, outcome.

Pure numpy/scipy: no Prefect, no database. ``analyse`` takes samples, ``analyse_file`` streams a file
in blocks (bounded memory) and gives the same result as ``analyse`` on the whole signal.

Method
------
1. Short-time spectra on the native sample rate (Hann, ``frame_s`` ≈ 32 ms, hop ``hop_s`` = 10 ms), so the
   frame grid does not depend on how the signal is cut into blocks. Per frame and per channel the
   features are: the strongest bin between ``tone_search_lo_hz`` and ``tone_search_hi_hz`` on the channel
   mix, its *dominance* (energy of the peak ±``peak_half_width_bins`` over the energy of the whole
   analysis band), a *harmonic ratio* (strongest of the bands at f/2, 2f/3, 4f/3, 3f/2 and 2f over the
   peak: a voiced harmonic has neighbours there, a tone does not), its *instantaneous frequency*
   (phase advance of the peak bin over one hop: sub-Hz accurate for a steady tone), its level, and the
   300–3400 Hz energy of each channel for voice activity.
2. Tones: frames where one narrow band dominates (hysteresis ``dominance_on``/``dominance_off``) and the
   frequency moves by at most ``max_freq_step_hz`` per hop are chained into runs; runs split by short
   drop-outs are merged; a run is a tone when its frequency and level are stable (vibrato and pitch
   drift of sung vowels fail this), its edges are where the level is within ``edge_drop_db`` of the
   run's median. Tones are then classified by frequency band and duration: ring-back, voicemail beep,
   SIT component (three consecutive components in order make one SIT event).
3. Speech: per channel, band energy over a running noise floor (minimum statistics), with hysteresis,
   gap closing and a minimum length; tone frames are excluded. Only speech after the last counted tone
   (ring, beep after the last ring, SIT) counts.
4. Outcome: SIT → unreachable; a beep after the last ring → voicemail; enough speech after the last
   ring → answered (stereo: customer-channel speech is the strong cue); otherwise no_answer.

One module (about 580 lines) for one detector: features, tones, voice activity and the outcome decision
share ``DetectorConfig`` and ``DETECTOR_VERSION``, which keys every stored analysis; kept together, a
change to any part is seen to need a new version.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy import fft as sp_fft
from scipy.ndimage import minimum_filter1d, uniform_filter1d

DETECTOR_VERSION = "tones-1"

# A recording outside these bounds holds no evidence to analyse (raw.audio_files' GX ranges agree): it is
# unanalysable, never an outcome such as no_answer.
MIN_RECORDING_S = 0.05
SAMPLE_RATES = (4_000, 192_000)
MAX_CHANNELS = 8


class UnanalysableRecording(ValueError):
    """A recording that decodes but holds nothing to analyse: no samples, an absurd rate, NaN/Inf samples."""


def unanalysable_reason(
    frames: int, sample_rate: int, channels: int, max_seconds: float | None = None
) -> str | None:
    """Why a recording of this shape cannot be analysed, or None when it can; ``max_seconds`` bounds its
    length (the pipeline's ``max_recording_s``: a 3-hour file would make a 178k-character transcript)."""
    if not SAMPLE_RATES[0] <= sample_rate <= SAMPLE_RATES[1]:
        return f"sample rate {sample_rate} Hz is outside {SAMPLE_RATES[0]}-{SAMPLE_RATES[1]} Hz"
    if not 1 <= channels <= MAX_CHANNELS:
        return f"{channels} channels (1 to {MAX_CHANNELS} expected)"
    if frames < MIN_RECORDING_S * sample_rate:
        return f"{frames} frame(s) at {sample_rate} Hz: shorter than {MIN_RECORDING_S} s"
    if max_seconds is not None and frames > max_seconds * sample_rate:
        return (
            f"{frames / sample_rate:.0f} s long: longer than the {max_seconds:g} s limit "
            "(CALLAUDIT_MAX_RECORDING_S)"
        )
    return None


OUTCOMES: tuple[str, ...] = ("answered", "voicemail", "no_answer", "unreachable")


@dataclass(frozen=True)
class ToneEvent:
    """One detected tone (or, for SIT, one triplet): start and end in seconds, frequency in Hz."""

    start_s: float
    end_s: float
    frequency_hz: float


@dataclass(frozen=True)
class DetectorConfig:
    """Every threshold of the detector. Frequencies in Hz, durations in seconds, levels in dB."""

    # --- framing -------------------------------------------------------------------------------------
    frame_s: float = 0.032  # analysis window (Hann); 32 ms gives 31 Hz bins
    hop_s: float = 0.010  # frame step; also the time resolution of every decision
    analysis_lo_hz: float = 100.0  # "rest of the spectrum" for dominance: this band ...
    analysis_hi_hz: float = 3800.0  # ... up to here (capped at 0.95 × Nyquist)
    # --- tone frames ---------------------------------------------------------------------------------
    tone_search_lo_hz: float = 300.0  # the tone peak is searched between these frequencies
    tone_search_hi_hz: float = 2000.0
    peak_half_width_bins: int = 2  # the peak band is the peak bin ± this many bins (Hann main lobe)
    dominance_on: float = 0.6  # a frame starts/holds a tone when the peak band has ≥ this share ...
    dominance_off: float = 0.4  # ... and may continue one down to this share (hysteresis)
    harmonic_max_ratio: float = 0.03  # energy at f/2, 2f/3, 4f/3, 3f/2 or 2f must stay below this × peak
    min_level_db: float = -60.0  # tone power (dB re a full-scale sine's power 0.5) must exceed this
    max_freq_step_hz: float = 6.0  # instantaneous frequency may move at most this much per hop
    # --- tone runs -----------------------------------------------------------------------------------
    min_run_s: float = 0.08  # shorter runs are ignored (before merging)
    merge_gap_s: float = 0.05  # runs at the same frequency separated by at most this gap are merged
    merge_freq_hz: float = 5.0  # "same frequency" for merging
    max_freq_dev_hz: float = 3.0  # 90th percentile |smoothed frequency − median| must stay below this
    max_level_std_db: float = 3.0  # standard deviation of the level inside the tone must stay below this
    edge_drop_db: float = 6.0  # tone edges: first/last frame within this of the median level
    # --- classes -------------------------------------------------------------------------------------
    min_tone_s: float = 0.25  # minimum duration of a ring-back burst
    ring_lo_hz: float = 390.0  # ring-back band (425 Hz Europe/Morocco, 440 Hz France), inclusive
    ring_hi_hz: float = 460.0
    beep_lo_hz: float = 590.0  # voicemail beep band, inclusive
    beep_hi_hz: float = 650.0
    beep_min_s: float = 0.3  # voicemail beep duration range ...
    beep_max_s: float = 1.0
    duration_tolerance_s: float = 0.05  # ... widened by this on both sides (frame-edge uncertainty)
    sit_freqs_hz: tuple[float, float, float] = (913.8, 1370.6, 1776.7)  # SIT components, in order
    sit_tolerance: float = 0.02  # relative frequency tolerance of each SIT component
    sit_min_tone_s: float = 0.2  # minimum duration of each SIT component (nominal 276/276/380 ms)
    sit_max_gap_s: float = 0.1  # maximum silence between consecutive SIT components
    # --- speech --------------------------------------------------------------------------------------
    vad_lo_hz: float = 300.0  # voice band
    vad_hi_hz: float = 3400.0
    vad_smooth_frames: int = 3  # moving average of the voice-band energy before decisions
    noise_window_s: float = 8.0  # noise floor = running minimum of the smoothed energy over this window
    noise_bias_db: float = 1.0  # ... raised by this (the minimum under-estimates the mean)
    vad_abs_min_db: float = -70.0  # floor never below this (digital silence)
    vad_on_db: float = 6.0  # speech starts/holds where energy ≥ floor + this ...
    vad_off_db: float = 3.0  # ... and extends down to floor + this (hysteresis)
    vad_merge_gap_s: float = 0.3  # speech segments closer than this are joined
    vad_min_speech_s: float = 0.1  # shorter speech segments are dropped
    tone_guard_s: float = 0.05  # frames this close to a tone are not speech
    onset_offset_s: float = 0.0  # added to the first speech frame's centre to give the onset
    # --- outcome -------------------------------------------------------------------------------------
    answer_min_speech_s: float = 0.4  # speech after the last ring needed to call it answered


@dataclass(frozen=True)
class AudioAnalysis:
    """Everything the detector found in one recording."""

    duration_s: float
    sample_rate: int
    channels: int
    ring_bursts: tuple[ToneEvent, ...]
    voicemail_beeps: tuple[ToneEvent, ...]  # only beeps after the last ring burst
    sit_tones: tuple[ToneEvent, ...]  # one event per triplet: start of the first, end of the third
    speech_onset_s: float | None  # first speech after the last tone; None when there is none
    speech_s: float  # seconds of speech after the last tone (any channel)
    agent_speech_s: float | None  # stereo only: channel 0, after the last tone
    customer_speech_s: float | None  # stereo only: channel 1, after the last tone
    outcome: str  # answered | voicemail | no_answer | unreachable
    outcome_confidence: float  # 0..1
    detector_version: str = DETECTOR_VERSION
    speech_segments: tuple[tuple[tuple[float, float], ...], ...] = ()
    """Per channel, the ``(start_s, end_s)`` spans of speech after the last tone (what ASR listens to)."""


# ----------------------------------------------------------------------------------------------------
# Frame features (streaming)
# ----------------------------------------------------------------------------------------------------


@dataclass
class _Features:
    dominance: np.ndarray
    freq: np.ndarray
    level_db: np.ndarray
    harmonic: np.ndarray
    voice: np.ndarray  # (frames, channels) voice-band power


@dataclass
class _Extractor:
    """Computes per-frame features block by block; the frame grid is that of the whole signal."""

    rate: int
    channels: int
    config: DetectorConfig
    n_fft: int = 0
    hop: int = 0
    _buf: np.ndarray = field(default_factory=lambda: np.zeros((0, 1), np.float32))
    _prev: np.ndarray | None = None  # complex spectrum (mix) of the last frame of the previous block
    _chunks: list[tuple[np.ndarray, ...]] = field(default_factory=list)
    samples: int = 0

    def __post_init__(self) -> None:
        cfg = self.config
        self.n_fft = max(16, int(round(cfg.frame_s * self.rate)))
        self.hop = max(1, int(round(cfg.hop_s * self.rate)))
        self._buf = np.zeros((0, self.channels), np.float32)
        n = self.n_fft
        self._win = np.hanning(n + 2)[1:-1].astype(np.float32)  # symmetric, no zero end points
        # scale so that a sine of amplitude A gives total one-sided power A²/2
        self._scale = 2.0 / (n * float(np.sum(self._win.astype(np.float64) ** 2)))
        df = self.rate / n
        nyq_bin = n // 2
        hi_cap = 0.95 * self.rate / 2
        self._a_lo = max(1, int(math.ceil(cfg.analysis_lo_hz / df)))
        self._a_hi = min(nyq_bin, int(math.floor(min(cfg.analysis_hi_hz, hi_cap) / df)))
        self._s_lo = max(self._a_lo, int(math.ceil(cfg.tone_search_lo_hz / df)))
        self._s_hi = min(self._a_hi, int(math.floor(min(cfg.tone_search_hi_hz, hi_cap) / df)))
        self._v_lo = max(1, int(math.ceil(cfg.vad_lo_hz / df)))
        self._v_hi = min(nyq_bin, int(math.floor(min(cfg.vad_hi_hz, hi_cap) / df)))
        self._df = df
        self._top = max(self._a_hi, self._v_hi, self._s_hi)
        self._harm_ratios = np.array([0.5, 2 / 3, 4 / 3, 1.5, 2.0])

    def feed(self, block: np.ndarray) -> None:
        block = _as_float(block)
        if block.ndim == 1:
            block = block[:, None]
        self.samples += block.shape[0]
        buf = np.concatenate([self._buf, block.astype(np.float32, copy=False)], axis=0)
        n, h = self.n_fft, self.hop
        if buf.shape[0] < n:
            self._buf = buf
            return
        nf = (buf.shape[0] - n) // h + 1
        self._process(buf[: (nf - 1) * h + n])
        self._buf = buf[nf * h :].copy()

    def _process(self, buf: np.ndarray) -> None:
        n, h = self.n_fft, self.hop
        top = self._top
        specs = []
        for c in range(self.channels):
            frames = np.lib.stride_tricks.sliding_window_view(buf[:, c], n)[::h]
            specs.append(sp_fft.rfft(frames * self._win, axis=1, overwrite_x=True)[:, : top + 1])
        if self.channels == 1:
            mix = specs[0]
            chan_power = [(mix.real**2 + mix.imag**2) * self._scale]
            power = chan_power[0]
        else:
            mix = sum(specs[1:], specs[0]) / self.channels
            chan_power = [(s.real**2 + s.imag**2) * self._scale for s in specs]
            power = (mix.real**2 + mix.imag**2) * self._scale
        voice = np.stack([p[:, self._v_lo : self._v_hi + 1].sum(axis=1) for p in chan_power], axis=1)
        nfr = power.shape[0]
        rows = np.arange(nfr)[:, None]
        k = np.argmax(power[:, self._s_lo : self._s_hi + 1], axis=1) + self._s_lo
        w = self.config.peak_half_width_bins
        peak_idx = np.clip(k[:, None] + np.arange(-w, w + 1), 0, top)
        peak = power[rows, peak_idx].sum(axis=1, dtype=np.float64)
        total = power[:, self._a_lo : self._a_hi + 1].sum(axis=1, dtype=np.float64)
        centres = np.rint(k[:, None] * self._harm_ratios).astype(np.int64)  # (frames, 5)
        inside = (centres - 1 >= self._a_lo) & (centres + 1 <= self._a_hi)
        idx = np.clip(centres[:, :, None] + np.arange(-1, 2), 0, top).reshape(nfr, -1)
        harm_e = power[rows, idx].reshape(nfr, -1, 3).sum(axis=2, dtype=np.float64)
        harm = np.where(inside, harm_e, 0.0).max(axis=1)
        tiny = 1e-20
        dominance = peak / np.maximum(total, tiny)
        harmonic = harm / np.maximum(peak, tiny)
        level_db = 10.0 * np.log10(np.maximum(peak, tiny) / 0.5)
        # instantaneous frequency of the peak bin from the phase advance over one hop
        kk = k
        cur = mix[rows[:, 0], kk]
        prev = np.empty(nfr, np.complex128)
        prev[1:] = mix[rows[:-1, 0], kk[1:]]
        prev[0] = self._prev[kk[0]] if self._prev is not None else np.nan
        expected = 2.0 * np.pi * kk * h / n
        dphi = np.angle(cur) - np.angle(prev) - expected
        dphi = (dphi + np.pi) % (2.0 * np.pi) - np.pi
        freq = (kk + dphi * n / (2.0 * np.pi * h)) * self._df
        self._prev = mix[-1].copy()
        self._chunks.append(
            (
                dominance.astype(np.float32),
                freq.astype(np.float32),
                level_db.astype(np.float32),
                harmonic.astype(np.float32),
                voice.astype(np.float32),
            )
        )

    def features(self) -> _Features:
        if not self._chunks:
            e = np.zeros(0, np.float32)
            return _Features(e, e, e, e, np.zeros((0, self.channels), np.float32))
        parts = list(zip(*self._chunks, strict=True))
        self._chunks = []
        return _Features(*(np.concatenate(p, axis=0) for p in parts))


def _as_float(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind == "i":
        return x.astype(np.float32) / float(-np.iinfo(x.dtype).min)
    if x.dtype.kind == "u":
        info = np.iinfo(x.dtype)
        mid = (info.max + 1) / 2.0
        return ((x.astype(np.float32) - mid) / mid).astype(np.float32)
    if x.dtype.kind == "b":
        return x.astype(np.float32)
    return x.astype(np.float32, copy=False)


# ----------------------------------------------------------------------------------------------------
# Decisions on the feature arrays
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tone:
    first: int  # first frame (inclusive) of the tone's core
    last: int  # last frame (inclusive)
    freq: float


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (inclusive) indices of the True runs of a boolean array."""
    if mask.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1


def _find_tones(f: _Features, cfg: DetectorConfig, hop_s: float) -> list[_Tone]:
    n = f.dominance.size
    if n == 0:
        return []
    freq = f.freq.astype(np.float64)
    finite = np.isfinite(freq)
    base = finite & (f.harmonic <= cfg.harmonic_max_ratio) & (f.level_db >= cfg.min_level_db)
    weak = base & (f.dominance >= cfg.dominance_off)
    strong = base & (f.dominance >= cfg.dominance_on)
    step = np.zeros(n, bool)
    step[1:] = np.abs(np.diff(np.where(finite, freq, 0.0))) <= cfg.max_freq_step_hz
    link = np.zeros(n, bool)
    link[1:] = weak[1:] & weak[:-1] & step[1:]
    starts = np.flatnonzero(weak & ~link)
    ends = np.flatnonzero(weak & ~np.concatenate([link[1:], [False]]))
    min_run = max(2, int(round(cfg.min_run_s / hop_s)))
    keep = (ends - starts + 1) >= min_run
    starts, ends = starts[keep], ends[keep]
    if starts.size == 0:
        return []
    scount = np.concatenate([[0], np.cumsum(strong)])
    has_strong = (scount[ends + 1] - scount[starts]) >= min_run // 2
    starts, ends = starts[has_strong], ends[has_strong]
    # merge runs at the same frequency separated by short drop-outs
    merged: list[list[int]] = []
    gap = int(round(cfg.merge_gap_s / hop_s))
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        fm = float(np.median(freq[s : e + 1]))
        if merged:
            ps, pe, pf = merged[-1]
            if s - pe - 1 <= gap and abs(fm - pf) <= cfg.merge_freq_hz:
                merged[-1] = [ps, e, pf]
                continue
        merged.append([s, e, fm])
    tones: list[_Tone] = []
    for s, e, _ in merged:
        s, e = int(s), int(e)
        idx = np.arange(s, e + 1)
        idx = idx[weak[idx]]
        lv = f.level_db[idx].astype(np.float64)
        med_lv = float(np.median(lv))
        core = idx[lv >= med_lv - cfg.edge_drop_db]
        if core.size < 2:
            continue
        fc = freq[core]
        fmed = float(np.median(fc))
        smooth = uniform_filter1d(fc, size=min(5, fc.size), mode="nearest")
        if float(np.percentile(np.abs(smooth - fmed), 90)) > cfg.max_freq_dev_hz:
            continue
        inner = f.level_db[core[2:-2]] if core.size > 6 else f.level_db[core]
        if float(np.std(inner)) > cfg.max_level_std_db:
            continue
        tones.append(_Tone(int(core[0]), int(core[-1]), fmed))
    return tones


def _speech_mask(voice: np.ndarray, blocked: np.ndarray, cfg: DetectorConfig, hop_s: float) -> np.ndarray:
    """Voice activity of one channel (frame mask)."""
    n = voice.size
    if n == 0:
        return np.zeros(0, bool)
    e = uniform_filter1d(voice.astype(np.float64), size=max(1, cfg.vad_smooth_frames), mode="nearest")
    win = max(3, int(round(cfg.noise_window_s / hop_s)))
    floor = minimum_filter1d(e, size=min(win, 2 * n + 1), mode="nearest") * 10 ** (cfg.noise_bias_db / 10)
    floor = np.maximum(floor, 10 ** (cfg.vad_abs_min_db / 10))
    on = (e >= floor * 10 ** (cfg.vad_on_db / 10)) & ~blocked
    off = (e >= floor * 10 ** (cfg.vad_off_db / 10)) & ~blocked
    s, t = _runs(off)
    oncount = np.concatenate([[0], np.cumsum(on)])
    good = (oncount[t + 1] - oncount[s]) > 0
    s, t = s[good], t[good]
    if s.size == 0:
        return np.zeros(n, bool)
    gap = int(round(cfg.vad_merge_gap_s / hop_s))
    # join segments separated by short gaps that are not blocked by a tone
    blk = np.concatenate([[0], np.cumsum(blocked)])
    js, jt = [int(s[0])], [int(t[0])]
    for a, b in zip(s[1:].tolist(), t[1:].tolist(), strict=True):
        if a - jt[-1] - 1 <= gap and blk[a] - blk[jt[-1] + 1] == 0:
            jt[-1] = b
        else:
            js.append(a)
            jt.append(b)
    mask = np.zeros(n, bool)
    min_len = max(1, int(round(cfg.vad_min_speech_s / hop_s)))
    for a, b in zip(js, jt, strict=True):
        if b - a + 1 >= min_len:
            mask[a : b + 1] = True
    return mask


def _spans(mask: np.ndarray, t_of: Callable[[int], float], hop_s: float) -> tuple[tuple[float, float], ...]:
    """A frame mask as ``(start_s, end_s)`` spans: each run from its first frame's centre minus half a hop
    to its last frame's centre plus half a hop."""
    starts, ends = _runs(mask)
    return tuple(
        (round(max(0.0, t_of(int(a)) - hop_s / 2), 4), round(t_of(int(b)) + hop_s / 2, 4))
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True)
    )


def _in_band(f: float, lo: float, hi: float) -> bool:
    return lo <= f <= hi


def _decide(
    f: _Features, rate: int, channels: int, samples: int, n_fft: int, hop: int, cfg: DetectorConfig
) -> AudioAnalysis:
    hop_s = hop / rate
    nfr = f.dominance.size

    def t_of(i: int) -> float:
        return (i * hop + n_fft / 2) / rate

    tones = _find_tones(f, cfg, hop_s)
    tol = cfg.duration_tolerance_s
    events = [
        (t, ToneEvent(round(t_of(t.first), 4), round(t_of(t.last), 4), round(t.freq, 2))) for t in tones
    ]

    def dur(ev: ToneEvent) -> float:
        return ev.end_s - ev.start_s + hop_s  # frame centres → covered time

    rings = [
        (t, ev)
        for t, ev in events
        if _in_band(ev.frequency_hz, cfg.ring_lo_hz, cfg.ring_hi_hz) and dur(ev) >= cfg.min_tone_s - tol
    ]
    last_ring_end = rings[-1][1].end_s if rings else -math.inf
    beeps = [
        (t, ev)
        for t, ev in events
        if _in_band(ev.frequency_hz, cfg.beep_lo_hz, cfg.beep_hi_hz)
        and cfg.beep_min_s - tol <= dur(ev) <= cfg.beep_max_s + tol
        and ev.start_s > last_ring_end
    ]
    sit_parts: list[list[tuple[_Tone, ToneEvent]]] = [[], [], []]
    for t, ev in events:
        if dur(ev) < cfg.sit_min_tone_s - tol:
            continue
        for j, fs in enumerate(cfg.sit_freqs_hz):
            if abs(ev.frequency_hz - fs) <= cfg.sit_tolerance * fs:
                sit_parts[j].append((t, ev))
    sits: list[tuple[int, int, ToneEvent]] = []
    for t1, e1 in sit_parts[0]:
        n2 = [(t, e) for t, e in sit_parts[1] if -tol <= e.start_s - e1.end_s <= cfg.sit_max_gap_s + hop_s]
        if not n2:
            continue
        t2, e2 = n2[0]
        n3 = [(t, e) for t, e in sit_parts[2] if -tol <= e.start_s - e2.end_s <= cfg.sit_max_gap_s + hop_s]
        if not n3:
            continue
        t3, e3 = n3[0]
        sits.append((t1.first, t3.last, ToneEvent(e1.start_s, e3.end_s, e1.frequency_hz)))

    # speech: tone frames (any stable tone, counted or not) are never speech
    blocked = np.zeros(nfr, bool)
    guard = int(round(cfg.tone_guard_s / hop_s))
    for t in tones:
        blocked[max(0, t.first - guard) : t.last + guard + 1] = True
    last_tone = -1
    if rings:
        last_tone = max(last_tone, rings[-1][0].last)
    if beeps:
        last_tone = max(last_tone, beeps[-1][0].last)
    if sits:
        last_tone = max(last_tone, max(s[1] for s in sits))
    after = np.zeros(nfr, bool)
    after[last_tone + guard + 1 :] = True
    masks = [_speech_mask(f.voice[:, c], blocked, cfg, hop_s) & after for c in range(channels)]
    union = np.zeros(nfr, bool)
    for m in masks:
        union |= m
    speech_s = round(float(union.sum()) * hop_s, 3)
    first = np.flatnonzero(union)
    onset = round(t_of(int(first[0])) + cfg.onset_offset_s, 4) if first.size else None
    segments = tuple(_spans(m, t_of, hop_s) for m in masks)
    agent_s = customer_s = None
    if channels >= 2:
        agent_s = round(float(masks[0].sum()) * hop_s, 3)
        customer_s = round(float(masks[1].sum()) * hop_s, 3)

    # outcome
    if sits:
        outcome, conf = "unreachable", 0.95
    elif beeps:
        outcome, conf = "voicemail", 0.9 if rings else 0.75
    elif channels >= 2 and customer_s is not None and customer_s >= cfg.answer_min_speech_s:
        outcome, conf = "answered", 0.95
    elif speech_s >= cfg.answer_min_speech_s:
        outcome = "answered"
        conf = 0.6 if channels >= 2 else min(0.95, 0.6 + 0.05 * speech_s)
    else:
        outcome = "no_answer"
        conf = 0.9 if speech_s == 0.0 else 0.6
        if not rings:
            conf -= 0.2
    return AudioAnalysis(
        duration_s=round(samples / rate, 4) if rate else 0.0,
        sample_rate=int(rate),
        channels=int(channels),
        ring_bursts=tuple(ev for _, ev in rings),
        voicemail_beeps=tuple(ev for _, ev in beeps),
        sit_tones=tuple(s[2] for s in sits),
        speech_onset_s=onset,
        speech_s=speech_s,
        agent_speech_s=agent_s,
        customer_speech_s=customer_s,
        outcome=outcome,
        outcome_confidence=round(float(conf), 3),
        detector_version=DETECTOR_VERSION,
        speech_segments=segments,
    )


# ----------------------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------------------


def analyse(
    samples: np.ndarray, sample_rate: int, config: DetectorConfig = DetectorConfig()
) -> AudioAnalysis:  # noqa: B008
    """Analyse a whole signal: (n,) mono or (n, channels); float in [-1, 1] or integer PCM."""
    x = np.asarray(samples)
    if x.ndim > 2:
        raise ValueError(f"samples must be 1-D or 2-D (frames, channels), got shape {x.shape}")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    channels = 1 if x.ndim == 1 else int(x.shape[1])
    if channels == 0:
        raise ValueError("samples has zero channels")
    ex = _Extractor(int(sample_rate), channels, config)
    ex.feed(x)
    return _decide(ex.features(), ex.rate, channels, ex.samples, ex.n_fft, ex.hop, config)


def analyse_file(
    path: str | Path,
    config: DetectorConfig = DetectorConfig(),  # noqa: B008
    block_s: float = 60.0,
) -> AudioAnalysis:
    """Analyse an audio file read in blocks of block_s seconds; same result as ``analyse`` on all of it."""
    with sf.SoundFile(str(path)) as fh:
        rate, channels = int(fh.samplerate), int(fh.channels)
        reason = unanalysable_reason(int(fh.frames), rate, channels)
        if reason is not None:
            raise UnanalysableRecording(reason)
        ex = _Extractor(rate, channels, config)
        block = max(1, int(block_s * rate))
        while True:
            data = fh.read(block, dtype="float32", always_2d=True)
            if data.shape[0] == 0:
                break
            if not np.isfinite(data).all():
                raise UnanalysableRecording(f"non-finite samples (NaN or Inf) after {ex.samples} frame(s)")
            ex.feed(data)
    return _decide(ex.features(), rate, channels, ex.samples, ex.n_fft, ex.hop, config)
