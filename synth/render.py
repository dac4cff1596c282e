"""Compose and write one call recording; returns its acoustic ground truth. Runs in worker processes."""

from __future__ import annotations

import importlib
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from synth.audio import SIT_TONES, Timeline, add_noise, limit_peak, mulaw_roundtrip, tone
from synth.qa import qa_truth
from synth.speech import VOICES, synthesize

MIN_S, MAX_S = 8.0, 35.0
# encodings a re-encoded duplicate may get: (format, subtype, sample rate)
REENCODINGS: tuple[tuple[str, str, int], ...] = (
    ("WAV", "ULAW", 8000),
    ("FLAC", "PCM_16", 8000),
    ("WAV", "PCM_16", 16000),
)
REENCODE_GAIN = (0.5, 0.8)
RING_RANGE: dict[str, tuple[int, int]] = {
    "no_answer": (2, 7),
    "voicemail": (1, 5),
    "unreachable": (0, 2),
    "answered": (1, 5),
}


@dataclass(frozen=True)
class CallJob:
    index: int
    seed: int
    call_id: str
    branch: str
    local_day: str  # YYYYMMDD
    outcome: str
    intent: int
    behaviour: int
    order_type: str
    offer: str
    out_dir: str
    phrasebank: str = "synth.phrases"  # the module of the phrasings spoken (the names of synth.phrases)


@dataclass(frozen=True)
class DuplicateJob:
    index: int  # the duplicate call's position in the plan (its rng stream)
    seed: int
    call_id: str
    branch: str
    local_day: str  # YYYYMMDD
    kind: str  # identical | reencoded | other_order
    out_dir: str


@dataclass(frozen=True)
class Voice:
    name: str
    speed: int
    pitch: int

    def say(self, text: str, rate: int) -> np.ndarray:
        return synthesize(text, self.name, self.speed, self.pitch, rate)


@dataclass(frozen=True)
class RenderedCall:
    call_id: str
    audio_path: str
    ring_bursts: list[list[float]]
    voicemail_beeps: list[list[float]]
    sit_tones: list[list[float]]
    speech_onset_s: float | None
    sample_rate: int
    channels: int
    subtype: str
    format: str
    snr_db: float
    duration_s: float
    transcript: str
    speech_spans: list[list[float]]  # [start_s, end_s, party] of each utterance (0 agent, 1 customer)
    qa_items: dict[str, str] = field(default_factory=dict)  # answered: each QA item's status (phrasebank's)


def _voice(rng: np.random.Generator, exclude: str = "") -> Voice:
    names = [v for v in VOICES if v != exclude]
    return Voice(
        names[int(rng.integers(0, len(names)))],
        140 + 5 * int(rng.integers(0, 11)),
        30 + 5 * int(rng.integers(0, 9)),
    )


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(0, len(options)))]


def _rings(tl: Timeline, rng: np.random.Generator, k: int, freq: float) -> None:
    for i in range(k):
        if i:
            tl.silence(rng.uniform(3.0, 4.0))
        tl.add(tone(freq, rng.uniform(1.0, 1.7), tl.rate, 0.3), "ring", None, freq)


def _speak(tl: Timeline, voice: Voice, text: str, channel: int) -> None:
    tl.add(voice.say(text, tl.rate), "speech", channel, text=text)


def _compose(
    job: CallJob, rate: int, rings: int, agent: Voice, customer: Voice
) -> tuple[Timeline, dict[str, str]]:
    """The call's timeline and, when answered, the status of each QA item its lines meet (phrasebanks
    with a ``QA_MET`` only)."""
    rng = np.random.default_rng([job.seed, job.index, 2])
    phrases = importlib.import_module(job.phrasebank)
    tl = Timeline(rate)
    tl.silence(rng.uniform(0.3, 1.2))
    freq = float(rng.choice([425.0, 440.0]) + rng.uniform(-10.0, 10.0))
    names = {
        "agent": _pick(rng, phrases.AGENT_NAMES),
        "company": phrases.COMPANY,
        "customer": _pick(rng, phrases.CUSTOMER_NAMES),
        "subject": phrases.subject(job.order_type, job.offer),
        "day": _pick(rng, phrases.DAYS),
    }
    _rings(tl, rng, rings, freq)
    if job.outcome == "no_answer":
        tl.silence(rng.uniform(0.1, 1.0))
    elif job.outcome == "voicemail":
        tl.silence(rng.uniform(0.3, 0.8))
        _speak(tl, customer, _pick(rng, phrases.GREETING).format(**names), 1)
        tl.silence(rng.uniform(0.2, 0.5))
        beep = float(rng.uniform(590.0, 650.0))
        tl.add(tone(beep, rng.uniform(0.3, 1.0), rate, 0.3), "beep", None, beep)
        tl.silence(rng.uniform(0.3, 1.0))
        if rng.random() < 0.6:
            _speak(tl, agent, _pick(rng, phrases.VOICEMAIL_MESSAGE).format(**names), 0)
            tl.silence(rng.uniform(0.3, 1.0))
        else:
            tl.silence(rng.uniform(1.5, 4.0))
    elif job.outcome == "unreachable":
        if rings:
            tl.silence(rng.uniform(0.5, 1.5))
        for rep in range(int(rng.integers(1, 3))):
            if rep:
                tl.silence(rng.uniform(0.2, 0.6))
            for f, d in SIT_TONES:
                tl.add(tone(f, d, rate, 0.25, fade_s=0.005), "sit", None, f)
        tl.silence(rng.uniform(0.2, 0.6))
        _speak(tl, customer, _pick(rng, phrases.OPERATOR), 1)
        tl.silence(rng.uniform(0.3, 1.0))
    else:
        tl.silence(rng.uniform(0.2, 0.8))
        _speak(tl, customer, _pick(rng, phrases.HELLO), 1)
        tl.silence(rng.uniform(0.3, 0.9))
        intro = _pick(rng, phrases.INTRO_COURTEOUS if job.behaviour else phrases.INTRO_RUDE)
        _speak(tl, agent, intro.format(**names), 0)
        tl.silence(rng.uniform(0.3, 0.9))
        answer = _pick(rng, phrases.ANSWER[job.intent])
        _speak(tl, customer, answer.format(**names), 1)
        tl.silence(rng.uniform(0.3, 0.9))
        close = _pick(rng, phrases.CLOSE_COURTEOUS if job.behaviour else phrases.CLOSE_RUDE)
        _speak(tl, agent, close, 0)
        tl.silence(rng.uniform(0.3, 1.0))
        if hasattr(phrases, "QA_MET"):
            return tl, qa_truth(phrases.QA_MET, [intro, answer, close], job.intent)
    return tl, {}


def _spans(tl: Timeline, kind: str) -> list[list[float]]:
    r = tl.rate
    return [
        [round(i.start / r, 4), round((i.start + i.samples.size) / r, 4), round(i.freq, 1)]
        for i in tl.items
        if i.kind == kind
    ]


def _speech_spans(tl: Timeline) -> list[list[float]]:
    r = tl.rate
    return [
        [round(i.start / r, 4), round((i.start + i.samples.size) / r, 4), i.channel]
        for i in sorted(tl.items, key=lambda i: i.start)
        if i.kind == "speech"
    ]


def _onset(tl: Timeline) -> float | None:
    tones_end = max((i.start + i.samples.size for i in tl.items if i.kind != "speech"), default=0)
    after = [i.start for i in tl.items if i.kind == "speech" and i.start >= tones_end]
    return round(min(after) / tl.rate, 4) if after else None


def render_call(job: CallJob) -> RenderedCall:
    """Render, write audio/<branch>/<day>/<call_id>.<ext> and return the call's acoustic truth."""
    rng = np.random.default_rng([job.seed, job.index, 1])
    r = rng.random()
    if r < 0.2:
        fmt, subtype, rate = "WAV", "ULAW", 8000
    else:
        fmt, subtype, rate = ("FLAC" if r < 0.3 else "WAV"), "PCM_16", int(rng.choice([8000, 16000]))
    channels = 2 if rng.random() < 0.15 else 1
    snr = round(float(rng.uniform(10.0, 35.0)), 2)
    noise_kind = "pink" if rng.random() < 0.5 else "white"
    agent = _voice(rng)
    customer = _voice(rng, exclude=agent.name)
    lo, hi = RING_RANGE[job.outcome]
    rings = int(rng.integers(lo, hi + 1))
    tl, qa_items = _compose(job, rate, rings, agent, customer)
    while tl.pos > MAX_S * rate and rings > max(lo, 1):
        rings -= 1
        tl, qa_items = _compose(job, rate, rings, agent, customer)
    if tl.pos < MIN_S * rate:
        tl.shift(int((MIN_S + rng.uniform(0.0, 2.0)) * rate) - tl.pos)
    signal = tl.render(channels)
    noisy = limit_peak(add_noise(signal, rate, snr, noise_kind, rng))
    if subtype == "ULAW":
        noisy = mulaw_roundtrip(noisy)
    rel = _relpath(job.branch, job.local_day, job.call_id, fmt)
    path = Path(job.out_dir) / "audio" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, noisy, rate, subtype=subtype, format=fmt)
    transcript = " ".join(i.text for i in sorted(tl.items, key=lambda i: i.start) if i.kind == "speech")
    return RenderedCall(
        job.call_id,
        rel,
        _spans(tl, "ring"),
        _spans(tl, "beep"),
        _spans(tl, "sit"),
        _onset(tl),
        rate,
        channels,
        subtype,
        fmt,
        snr,
        round(tl.pos / rate, 4),
        transcript,
        _speech_spans(tl),
        qa_items,
    )


def _relpath(branch: str, local_day: str, call_id: str, fmt: str) -> str:
    return f"{branch}/{local_day}/{call_id}.{'flac' if fmt == 'FLAC' else 'wav'}"


def _reencoding(rng: np.random.Generator, original: RenderedCall) -> tuple[str, str, int]:
    """Another (format, subtype, rate) than the original's, at random."""
    options = [e for e in REENCODINGS if e != (original.format, original.subtype, original.sample_rate)]
    return options[int(rng.integers(0, len(options)))]


def _reencode(src: Path, dst: Path, encoding: tuple[str, str, int], gain: float) -> int:
    """Write src's audio again at another (format, subtype, rate) and gain; returns the frames written."""
    fmt, subtype, rate = encoding
    x, src_rate = sf.read(src, dtype="float64")
    if rate != src_rate:
        x = resample_poly(x, rate, src_rate, axis=0)
    sf.write(dst, np.clip(gain * x, -1.0, 1.0), rate, subtype=subtype, format=fmt)
    return int(x.shape[0])


def copy_recording(job: DuplicateJob, original: RenderedCall) -> RenderedCall:
    """Write a duplicate's audio/<branch>/<day>/<call_id>.<ext> from its original's recording: the same bytes
    (identical, other_order) or the same conversation re-encoded (reencoded); returns its acoustic truth
    (the original's, with the copy's path, encoding and duration)."""
    root = Path(job.out_dir) / "audio"
    if job.kind != "reencoded":
        rel = _relpath(job.branch, job.local_day, job.call_id, original.format)
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / original.audio_path, root / rel)
        return replace(original, call_id=job.call_id, audio_path=rel)
    rng = np.random.default_rng([job.seed, job.index, 3])
    fmt, subtype, rate = encoding = _reencoding(rng, original)
    gain = float(rng.uniform(*REENCODE_GAIN))
    rel = _relpath(job.branch, job.local_day, job.call_id, fmt)
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    frames = _reencode(root / original.audio_path, root / rel, encoding, gain)
    return replace(
        original,
        call_id=job.call_id,
        audio_path=rel,
        sample_rate=rate,
        subtype=subtype,
        format=fmt,
        duration_s=round(frames / rate, 4),
    )
