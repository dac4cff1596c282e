"""The classifier's noisy-channel calls (:mod:`training.classifier_heard`): corpus calls spoken with
espeak-ng and transcribed by the bundled speech model through the pipeline's transcriber."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from inference.call_classifier import FitConfig
from training.classifier_corpus import make_labelled_turns
from training.classifier_heard import heard_calls, spoken
from training.classifier_train import DEFAULT_ASR_MODEL, HEARD_WEIGHT, train

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


def _active_frames(channel: np.ndarray, rate: int) -> int:
    """20 ms frames whose RMS reaches a tenth of the channel's loudest frame."""
    size = rate // 50
    frames = channel[: channel.size // size * size].reshape(-1, size)
    rms = np.sqrt((frames**2).mean(axis=1))
    return int((rms >= 0.1 * rms.max()).sum())


def test_spoken_call_puts_each_side_on_its_channel() -> None:
    turns = [
        ("agent", "Bonjour, ici le technicien."),
        ("client", "Oui, je vous écoute."),
        ("agent", "Merci, au revoir."),
    ]
    layouts = set()
    for seed in range(8):
        recording = spoken(turns, "fr", random.Random(seed))
        assert recording is not None
        samples, rate = recording
        assert rate in (8000, 16000) and samples.dtype == np.float32 and np.isfinite(samples).all()
        layouts.add((samples.ndim, rate))
        if samples.ndim == 2:
            # the client speaks once, briefly: its channel is active for less time than the agent's
            assert _active_frames(samples[:, 1], rate) < _active_frames(samples[:, 0], rate)
    assert {ndim for ndim, _ in layouts} == {1, 2} and {rate for _, rate in layouts} == {8000, 16000}
    assert spoken([("agent", "   ")], "fr", random.Random(0)) is None


@pytest.mark.skipif(not DEFAULT_ASR_MODEL.exists(), reason="the bundled speech model is absent")
def test_heard_calls_keep_their_labels_and_are_cached(tmp_path: Path) -> None:
    calls = heard_calls(4, 7, DEFAULT_ASR_MODEL, tmp_path, log=lambda _: None)
    rng = random.Random(7)
    expected = [make_labelled_turns(rng) for _ in range(4)]
    assert [(c.call_type, c.behavior, c.sentiment) for c in calls] == [e[2:] for e in expected]
    conversations = [c for c in calls if c.call_type != 0]
    assert all(c.text.strip() for c in conversations)
    # what the classifier gets is the speech model's spelling, not the corpus's text
    assert all(c.text != " ".join(t for _, t in e[0]) for c, e in zip(calls, expected, strict=True))
    [cached] = list(tmp_path.iterdir())
    assert cached.name.startswith("heard-") and cached.name.endswith("-s7.jsonl")
    cached.write_text(cached.read_text(encoding="utf-8").replace(calls[0].text, "lu du cache"), "utf-8")
    again = heard_calls(4, 7, DEFAULT_ASR_MODEL, tmp_path, log=lambda _: None)
    assert again[0].text == "lu du cache" and again[1:] == calls[1:]
    # a larger count keeps the cached calls and recognises only the new ones, each as a fresh run would
    logged: list[str] = []
    more = heard_calls(6, 7, DEFAULT_ASR_MODEL, tmp_path, log=logged.append)
    assert more[:4] == again and "4/6 calls cached" in logged[0] and "recognising 2" in logged[0]
    fresh = heard_calls(6, 7, DEFAULT_ASR_MODEL, tmp_path / "fresh", log=lambda _: None)
    assert more[4:] == fresh[4:] and more[1:4] == fresh[1:4]
    # a call whose phrasing changed since it was cached is spoken again, not read back
    [cached] = [f for f in tmp_path.iterdir() if f.is_file()]
    rows = [json.loads(line) for line in cached.read_text(encoding="utf-8").splitlines()]
    rows[0]["turns"] = "0" * 16
    cached.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert heard_calls(6, 7, DEFAULT_ASR_MODEL, tmp_path, log=lambda _: None)[0] == calls[0]


@pytest.mark.skipif(not DEFAULT_ASR_MODEL.exists(), reason="the bundled speech model is absent")
def test_recipe_fits_reports_and_calibrates_on_heard_calls(tmp_path: Path) -> None:
    config = FitConfig(word_max_features=1500, char_max_features=2500, max_iter=300)
    result = train(
        tmp_path / "out", size=300, seed=7, config=config, demo_size=20, log=lambda _: None,
        heard=14, heard_cache=tmp_path / "heard",
    )  # fmt: skip
    metrics = result.metrics
    assert metrics["heard"]["calls"] == 14 and metrics["heard"]["weight"] == HEARD_WEIGHT
    assert len(metrics["heard"]["asr_model_sha256"]) == 64
    assert metrics["sets"]["heldout_heard"]["n"] == 2  # 15 % of 14, the training share fitted
    assert metrics["trust"]["heard_heldout_size"] == 2 and "heard" in metrics["trust"]["levels"]
