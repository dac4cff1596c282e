"""Pure tests of inference.audio_analysis on signals synthesised here with numpy (no synth/, no database)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from inference.audio_analysis import (
    DETECTOR_VERSION,
    AudioAnalysis,
    DetectorConfig,
    UnanalysableRecording,
    analyse,
    analyse_file,
)

RATE = 8000


def tone(freq: float, seconds: float, rate: int = RATE, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(round(seconds * rate))) / rate
    x = amp * np.sin(2 * np.pi * freq * t)
    fade = min(int(0.01 * rate), x.size // 2)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        x[:fade] *= ramp
        x[-fade:] *= ramp[::-1]
    return x


def silence(seconds: float, rate: int = RATE) -> np.ndarray:
    return np.zeros(int(round(seconds * rate)))


def speech_like(seconds: float, rate: int = RATE, seed: int = 0, amp: float = 0.25) -> np.ndarray:
    """Voiced syllables: a gliding 100–180 Hz harmonic source, shaped by two moving formants, with a
    syllabic (~4 Hz) envelope and short pauses, plus a little breath noise."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * rate))
    t = np.arange(n) / rate
    f0 = 140 + 35 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6)) + 10 * np.sin(2 * np.pi * 3.1 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    f1 = 500 + 200 * np.sin(2 * np.pi * 2.3 * t)
    f2 = 1500 + 500 * np.sin(2 * np.pi * 1.3 * t + 1.0)
    x = np.zeros(n)
    for h in range(1, int(3400 / 100)):
        fh = h * f0
        gain = np.exp(-(((fh - f1) / 150) ** 2)) + 0.5 * np.exp(-(((fh - f2) / 250) ** 2)) + 0.02
        x += np.where(fh < rate / 2 - 100, gain / h**0.5, 0.0) * np.sin(h * phase)
    syll = np.clip(np.sin(2 * np.pi * 4.0 * t + rng.uniform(0, 6)), 0, None) ** 0.7
    pauses = np.repeat(rng.random(int(seconds * 2) + 2) > 0.15, rate // 2)[:n]
    x = x * syll * pauses + 0.05 * rng.standard_normal(n) * syll
    x[: min(n, int(0.05 * rate))] *= np.linspace(0, 1, min(n, int(0.05 * rate)))
    return amp * x / max(1e-9, float(np.abs(x).max()))


def rings(count: int, rate: int = RATE, freq: float = 425.0, on: float = 1.5, amp: float = 0.3) -> np.ndarray:
    parts = [silence(0.5, rate)]
    for i in range(count):
        if i:
            parts.append(silence(3.5, rate))
        parts.append(tone(freq, on, rate, amp))
    return np.concatenate(parts)


def noisy(x: np.ndarray, level: float = 0.003, seed: int = 1) -> np.ndarray:
    return x + level * np.random.default_rng(seed).standard_normal(x.shape)


def mulaw(x: np.ndarray, mu: float = 255.0) -> np.ndarray:
    """G.711-style µ-law companding with 8-bit quantisation, decoded back to float."""
    y = np.sign(x) * np.log1p(mu * np.minimum(np.abs(x), 1.0)) / np.log1p(mu)
    q = np.round(y * 127) / 127
    return np.sign(q) * np.expm1(np.abs(q) * np.log1p(mu)) / mu


def counts(a: AudioAnalysis) -> tuple[int, int, int, str]:
    return len(a.ring_bursts), len(a.voicemail_beeps), len(a.sit_tones), a.outcome


def voicemail_call(rate: int = RATE) -> tuple[np.ndarray, float]:
    """Three rings, a greeting, a 0.5 s beep at 620 Hz, a message. Returns (signal, true onset after beep)."""
    head = np.concatenate(
        [rings(3, rate, 440.0), silence(0.5, rate), speech_like(3.0, rate, seed=3), silence(0.3, rate)]
    )
    head = np.concatenate([head, tone(620.0, 0.5, rate), silence(0.6, rate)])
    onset = head.size / rate
    x = np.concatenate([head, speech_like(4.0, rate, seed=4), silence(1.0, rate)])
    return noisy(x, 0.003, seed=rate), onset


# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("freq", "is_ring"), [(389.0, False), (390.0, True), (460.0, True), (461.0, False)])
def test_ring_band_edges(freq: float, is_ring: bool) -> None:
    a = analyse(noisy(np.concatenate([rings(3, freq=freq), silence(2.0)])), RATE)
    assert len(a.ring_bursts) == (3 if is_ring else 0)
    if is_ring:
        assert all(abs(ev.frequency_hz - freq) < 0.5 for ev in a.ring_bursts)
        starts = [ev.start_s for ev in a.ring_bursts]
        assert starts == pytest.approx([0.5, 5.5, 10.5], abs=0.03)
        assert all(abs(ev.end_s - ev.start_s - 1.5) < 0.05 for ev in a.ring_bursts)
    assert a.outcome == "no_answer"
    assert a.speech_onset_s is None
    assert a.detector_version == DETECTOR_VERSION


@pytest.mark.parametrize(
    ("f0", "strongest", "vibrato"), [(220.0, 2, 0.02), (207.0, 3, 0.02), (220.0, 2, 0.0)]
)
def test_sustained_vowel_is_not_a_tone(f0: float, strongest: int, vibrato: float) -> None:
    """A sung vowel at f0 ≈ 220 Hz whose 2nd harmonic (≈ 440 Hz, ring band) or 3rd (≈ 621 Hz, beep
    band) sits on the first formant, with 5.5 Hz vibrato of ±2 % (or none: its harmonics give it away):
    no ring, no beep, and it counts as speech."""
    n = 3 * RATE
    t = np.arange(n) / RATE
    phase = 2 * np.pi * np.cumsum(f0 * (1 + vibrato * np.sin(2 * np.pi * 5.5 * t))) / RATE
    formants = ((strongest * f0, 80.0, 1.0), (1100.0, 120.0, 0.5), (2500.0, 200.0, 0.3))
    x = np.zeros(n)
    for h in range(1, int(3600 / f0)):
        gain = sum(a / np.sqrt(1 + ((h * f0 - fc) / (bw / 2)) ** 2) for fc, bw, a in formants)
        x += gain / h**0.5 * np.sin(h * phase)
    x = 0.3 * x / np.abs(x).max()
    a = analyse(noisy(np.concatenate([rings(2), silence(1.0), x, silence(1.0)])), RATE)
    assert len(a.ring_bursts) == 2
    assert a.voicemail_beeps == ()
    assert a.outcome == "answered"
    assert a.speech_s > 2.5


def test_short_beep_not_counted() -> None:
    sig = noisy(np.concatenate([rings(2), silence(1.0), tone(620.0, 0.15), silence(2.0)]))
    a = analyse(sig, RATE)
    assert len(a.ring_bursts) == 2
    assert a.voicemail_beeps == ()
    assert a.outcome == "no_answer"


def test_clipped_ring_detected() -> None:
    x = np.clip(rings(3, amp=0.9), -0.1, 0.1)
    a = analyse(noisy(np.concatenate([x, silence(1.0)])), RATE)
    assert len(a.ring_bursts) == 3
    assert a.outcome == "no_answer"


def test_silence_and_empty_input() -> None:
    a = analyse(np.zeros(10 * RATE), RATE)
    assert counts(a) == (0, 0, 0, "no_answer")
    assert a.speech_onset_s is None and a.speech_s == 0.0
    for empty in (np.zeros(0), np.zeros((0, 2), np.int16), np.zeros(10)):
        e = analyse(empty, RATE)
        assert counts(e) == (0, 0, 0, "no_answer")
        assert e.speech_onset_s is None
    assert analyse(np.zeros((0, 2)), RATE).channels == 2


def test_voicemail_onset_after_beep() -> None:
    sig, onset = voicemail_call()
    a = analyse(sig, RATE)
    assert counts(a) == (3, 1, 0, "voicemail")
    beep = a.voicemail_beeps[0]
    assert 590 <= beep.frequency_hz <= 650
    assert a.speech_onset_s is not None and a.speech_onset_s > beep.end_s
    assert abs(a.speech_onset_s - onset) < 0.15
    assert a.speech_s > 2.0


def test_beep_before_last_ring_is_not_counted() -> None:
    sig = noisy(
        np.concatenate([rings(1), silence(1.0), tone(620.0, 0.5), silence(1.0), rings(1), silence(2)])
    )
    a = analyse(sig, RATE)
    assert len(a.ring_bursts) == 2 and a.voicemail_beeps == ()
    assert a.outcome == "no_answer"


def test_sit_triplet_unreachable() -> None:
    sit = np.concatenate(
        [tone(913.8, 0.276, amp=0.25), tone(1370.6, 0.276, amp=0.25), tone(1776.7, 0.38, amp=0.25)]
    )
    sig = noisy(
        np.concatenate([rings(1), silence(1.0), sit, silence(0.4), speech_like(3.0, seed=5), silence(1)])
    )
    a = analyse(sig, RATE)
    assert counts(a) == (1, 0, 1, "unreachable")
    ev = a.sit_tones[0]
    start = 0.5 + 1.5 + 1.0
    assert ev.start_s == pytest.approx(start, abs=0.03)
    assert ev.end_s == pytest.approx(start + 0.932, abs=0.03)
    assert a.speech_onset_s is not None and a.speech_onset_s > ev.end_s


def test_answered_stereo_speech_on_one_channel() -> None:
    r = rings(2)
    sp = speech_like(5.0, seed=7)
    ch0 = np.concatenate([r, silence(0.7), np.zeros(sp.size), silence(1.0)])
    ch1 = np.concatenate([r, silence(0.7), sp, silence(1.0)])
    sig = noisy(np.stack([ch0, ch1], axis=1))
    a = analyse(sig, RATE)
    assert a.channels == 2
    assert counts(a) == (2, 0, 0, "answered")
    assert a.customer_speech_s is not None and a.customer_speech_s > 2.5
    assert a.agent_speech_s is not None and a.agent_speech_s < 0.1
    assert a.speech_onset_s == pytest.approx(r.size / RATE + 0.7, abs=0.15)
    # what ASR will hear: nothing on the silent agent channel, the customer's speech within a frame or two
    agent, customer = a.speech_segments
    assert agent == ()
    start = r.size / RATE + 0.7
    assert customer[0][0] == pytest.approx(start, abs=0.15)
    assert customer[-1][1] == pytest.approx(start + 5.0, abs=0.3)
    assert all(s < e for s, e in customer) and sum(e - s for s, e in customer) == pytest.approx(
        a.customer_speech_s, abs=0.05
    )
    mono = analyse(sig[:, 1], RATE)
    assert mono.agent_speech_s is None and mono.customer_speech_s is None


def test_int16_and_mulaw_match_float(tmp_path: Path) -> None:
    sig, _ = voicemail_call()
    ref = analyse(sig, RATE)
    pcm = np.round(np.clip(sig, -1, 1) * 32767).astype(np.int16)
    assert counts(analyse(pcm, RATE)) == counts(ref)
    assert counts(analyse(mulaw(sig), RATE)) == counts(ref)
    path = tmp_path / "ulaw.wav"
    sf.write(path, sig, RATE, subtype="ULAW")
    from_file = analyse_file(path)
    assert counts(from_file) == counts(ref)
    assert abs((from_file.speech_onset_s or 0) - (ref.speech_onset_s or 0)) < 0.05


def test_8k_and_16k_agree() -> None:
    a8 = analyse(voicemail_call(8000)[0], 8000)
    a16 = analyse(voicemail_call(16000)[0], 16000)
    assert counts(a8) == counts(a16) == (3, 1, 0, "voicemail")
    assert a16.sample_rate == 16000
    assert abs((a8.speech_onset_s or 0) - (a16.speech_onset_s or 0)) < 0.05


def test_analyse_file_equals_analyse_across_blocks(tmp_path: Path) -> None:
    sig, _ = voicemail_call(16000)
    stereo = np.stack([sig, 0.5 * sig[::-1]], axis=1).astype(np.float32)
    path = tmp_path / "stereo.flac"
    sf.write(path, stereo, 16000, subtype="PCM_16")
    data, _ = sf.read(path, dtype="float32")
    whole = analyse(data, 16000)
    for block_s in (0.0173, 1.0, 60.0):
        assert analyse_file(path, block_s=block_s) == whole


def test_two_hour_file_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "long.wav"
    hours = 2.0
    head = noisy(np.concatenate([rings(4), silence(1.0)]), 0.002)
    rng = np.random.default_rng(9)
    with sf.SoundFile(path, "w", RATE, 1, subtype="PCM_16") as fh:
        fh.write(head)
        left = int(hours * 3600 * RATE) - head.size
        while left > 0:
            n = min(left, 600 * RATE)
            fh.write((0.002 * rng.standard_normal(n)).astype(np.float32))
            left -= n
    tracemalloc.start()
    try:
        a = analyse_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100 * 2**20, f"peak traced memory {peak / 2**20:.1f} MiB"
    assert a.duration_s == pytest.approx(hours * 3600, abs=0.01)
    assert counts(a) == (4, 0, 0, "no_answer")
    assert a.speech_onset_s is None


def test_config_is_frozen_and_tunable() -> None:
    cfg = DetectorConfig(ring_lo_hz=380.0)
    with pytest.raises(AttributeError):
        cfg.ring_lo_hz = 1.0  # type: ignore[misc]
    a = analyse(noisy(np.concatenate([rings(2, freq=385.0), silence(1.0)])), RATE, cfg)
    assert len(a.ring_bursts) == 2


def test_zero_sample_file_is_unanalysable_not_no_answer(tmp_path: Path) -> None:
    # issue 18: an empty recording certified an unanswered call; it holds no evidence at all
    path = tmp_path / "empty.wav"
    sf.write(path, np.zeros(0, dtype="int16"), 8000, subtype="PCM_16")
    assert sf.info(str(path)).frames == 0
    with pytest.raises(UnanalysableRecording, match="0 frame"):
        analyse_file(path)


@pytest.mark.parametrize(
    ("samples", "rate", "subtype", "why"),
    [
        (np.zeros(1, dtype="float32"), 8000, "PCM_16", "1 frame"),
        (np.zeros(400, dtype="float32"), 1, "PCM_16", "sample rate 1 Hz"),
        (np.array([0.0, np.nan, 0.1, np.inf] * 2000, dtype="float32"), 8000, "FLOAT", "non-finite"),
    ],
    ids=["one-sample", "1-hz", "nan-inf"],
)
def test_recordings_with_nothing_to_analyse_are_unanalysable(
    tmp_path: Path, samples: np.ndarray, rate: int, subtype: str, why: str
) -> None:
    path = tmp_path / "bad.wav"
    sf.write(path, samples, rate, subtype=subtype)
    with pytest.raises(UnanalysableRecording, match=why):
        analyse_file(path)
