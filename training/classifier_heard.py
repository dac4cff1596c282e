"""Corpus calls spoken and recognised: the call classifier's noisy-channel training set.

The classifier reads what the speech model writes, and on calls it never saw the bundled model writes
French by sound ("je ne uis pane à la maison je suis andvoa"), not the clean text the corpus is made of;
the corpus's simulated recognition errors (dropped, merged and misspelt words) are far milder. This
module gives the classifier the real channel: each call of :mod:`training.classifier_corpus` (its own
phrasings; the demo generator's ``synth/phrases.py`` is never read) is spoken turn by turn with espeak-ng
(agent and client in different voices), laid out as a mono mix or a stereo recording (agent left, client
right) with pauses and a quiet line between turns, degraded like the ASR recipe's training audio (8 kHz
telephone band with µ-law, or 16 kHz; noise 10–35 dB SNR), and transcribed by the pipeline's own
:class:`inference.asr.Transcriber` (speech spans only, the stage's defaults) with the model given. The
text the classifier gets is the one the classification stage reads: the merged dialogue of a stereo call,
the mix of a mono one.

The calls are cached as JSON lines under ``cache`` keyed by the recogniser (the model's and the LM's sha256
and the decoding weights, as in the transcripts' model id) and the seed, appended call by call: the recipe
re-runs for free, a larger count or an interrupted run only does the calls the cache lacks, and a retrained
speech model gets a training set of its own.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterator, Sequence
from math import gcd
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy.signal import resample_poly

from inference.call_classifier import LabelledCall
from training import asr_corpus
from training.asr_train import SAMPLE_RATE, add_noise, band_pass, espeak, mulaw_round_trip
from training.classifier_corpus import ENGLISH, make_labelled_turns

if TYPE_CHECKING:
    from inference.asr import AsrConfig

ENGLISH_VOICES = ("en", "en-us", "en+m3", "en+f2")
LINE_NOISE = 0.002  # amplitude of the quiet line between turns (before the SNR noise)


def _voice(rng: random.Random, language: str, avoid: str | None = None) -> str:
    if language == ENGLISH.code:
        return rng.choice([v for v in ENGLISH_VOICES if v != avoid])
    return rng.choice([v.name for v in asr_corpus.train_voices() if v.name != avoid])


def spoken(
    turns: Sequence[tuple[str, str]], language: str, rng: random.Random
) -> tuple[np.ndarray, int] | None:
    """The turns as a recording: ``(samples, rate)``, samples (n,) mono or (n, 2) agent/client; None when
    espeak-ng says nothing for any turn."""
    agent_voice = _voice(rng, language)
    voices = {"agent": agent_voice, "client": _voice(rng, language, avoid=agent_voice)}
    speed, pitch = rng.randint(130, 190), rng.randint(25, 75)
    pieces: list[tuple[str, np.ndarray]] = []
    for speaker, text in turns:
        if not text.strip():
            continue
        audio = espeak(text, voices[speaker], speed + rng.randint(-10, 10), pitch, rng.randint(80, 160))
        if audio.size:
            pieces.append((speaker, audio / (np.abs(audio).max() + 1e-9) * rng.uniform(0.3, 0.9)))
    if not pieces:
        return None
    gaps = [int(rng.uniform(0.2, 0.9) * SAMPLE_RATE) for _ in range(len(pieces) + 1)]
    length = sum(a.size for _, a in pieces) + sum(gaps)
    nprng = np.random.default_rng(rng.randrange(2**32))
    out = LINE_NOISE * nprng.standard_normal((length, 2)).astype(np.float32)
    at = gaps[0]
    for (speaker, audio), gap in zip(pieces, gaps[1:], strict=True):
        out[at : at + audio.size, 0 if speaker == "agent" else 1] += audio
        at += audio.size + gap
    stereo = rng.random() < 0.5
    channels = [out[:, 0], out[:, 1]] if stereo else [out.sum(axis=1)]
    telephone = rng.random() < 0.6
    snr = rng.uniform(10, 35)
    degraded = []
    for channel in channels:
        x = add_noise(channel, nprng, snr)
        if telephone:
            x = band_pass(x)
            x = mulaw_round_trip(x / (np.abs(x).max() + 1e-9) * 0.8)
        degraded.append(x)
    samples = np.stack(degraded, axis=1) if stereo else degraded[0]
    if telephone:
        g = gcd(SAMPLE_RATE, 8000)
        return resample_poly(samples, 8000 // g, SAMPLE_RATE // g, axis=0).astype(np.float32), 8000
    return samples.astype(np.float32), SAMPLE_RATE


def heard_calls(
    n: int,
    seed: int,
    model: str | Path,
    cache: Path,
    log: Callable[[str], None] = print,
    log_file: Path | None = None,
    lm: str | Path | None = None,
) -> list[LabelledCall]:
    """The first ``n`` corpus calls of ``seed`` as the speech model ``model`` transcribes them (with the beam
    search of the LM ``lm`` when given, as the pipeline decodes).

    Cached under ``cache`` in one JSON-lines file per recogniser and seed, one line per call with its index,
    appended as each call is recognised: call ``i`` is the ``i``-th corpus call of ``seed``, rendered with a
    generator of its own, so a larger ``n`` or an interrupted run only renders and recognises the calls the
    file lacks."""
    from inference.asr import AsrConfig, model_id_for

    config = AsrConfig(model=str(model), device="cpu", log_file=log_file, lm=str(lm) if lm else None)
    # the recogniser's identity: model file, LM file and its decoding weights (what the pipeline writes)
    recogniser = hashlib.sha256(model_id_for(config).encode()).hexdigest()[:16]
    path = cache / f"heard-{recogniser}-s{seed}.jsonl"
    rng = random.Random(seed)
    labelled = [make_labelled_turns(rng) for _ in range(n)]
    texts = _cached_texts(path, [_turns_key(call[0], call[1]) for call in labelled])
    missing = [i for i in range(n) if i not in texts]
    if missing:
        log(f"{n - len(missing)}/{n} calls cached in {path.name}; speaking and recognising {len(missing)}")
        texts |= _recognise(labelled, missing, seed, config, path, log)
    return [
        LabelledCall(texts[i], call_type, behavior, sentiment)
        for i, (_turns, _language, call_type, behavior, sentiment) in enumerate(labelled)
    ]


def _turns_key(turns: Sequence[tuple[str, str]], language: str) -> str:
    """What a cached text was spoken from: an edit of the corpus's phrasing changes it."""
    return hashlib.sha256(json.dumps([language, list(turns)], ensure_ascii=False).encode()).hexdigest()[:16]


def _cached_texts(path: Path, keys: Sequence[str]) -> dict[int, str]:
    """Index -> recognised text of the calls in the cache file that were spoken from the turns whose
    :func:`_turns_key` is ``keys[index]`` (a torn last line and a call since rephrased are skipped)."""
    texts: dict[int, str] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            i = int(row["i"])
            if i < len(keys) and row.get("turns") == keys[i]:
                texts[i] = row["text"]
    return texts


def _recognise(
    labelled: Sequence[tuple],
    indices: Sequence[int],
    seed: int,
    config: AsrConfig,
    path: Path,
    log: Callable[[str], None],
) -> dict[int, str]:
    """Speak and transcribe the calls ``indices`` of ``labelled``, appending each to ``path``."""
    from inference.asr import CallAudio, Transcriber

    transcriber = Transcriber(config)

    def recordings() -> Iterator[CallAudio]:
        for done, i in enumerate(indices, start=1):
            turns, language = labelled[i][0], labelled[i][1]
            recording = spoken(turns, language, random.Random(f"{seed}-render-{i}"))
            if recording is None:
                recording = (np.zeros(8000, np.float32), 8000)
            yield CallAudio(str(i), recording[0], recording[1], 0.0)
            if done % 100 == 0:
                log(f"spoken and recognised {done}/{len(indices)} calls")

    texts: dict[int, str] = {}
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        for key, transcripts in transcriber.transcribe_calls(recordings()):
            whole = [t for t in transcripts if t.channel in ("dialogue", "mix")]
            i = int(key)
            texts[i] = whole[0].text if whole else ""
            f.write(_line(i, labelled[i], texts[i]))
            f.flush()
        for i in indices:  # a call with no speech span is recognised as nothing
            if i not in texts:
                texts[i] = ""
                f.write(_line(i, labelled[i], ""))
    return texts


def _line(i: int, call: Sequence, text: str) -> str:
    row = {"i": i, "turns": _turns_key(call[0], call[1]), "text": text}
    return json.dumps(row, ensure_ascii=False) + "\n"
