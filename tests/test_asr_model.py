"""The bundled ASR recipe: text normalisation, corpus splits, a tiny train/save/restore/transcribe round
trip on espeak-ng audio, and (when present) the bundled .nemo on a fresh held-out sentence."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from inference.asr_model import BUNDLED_MODEL, LABELS, error_rates, hypothesis_texts, normalize_text
from training import asr_corpus as corpus

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = BUNDLED_MODEL
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


def test_normalize_keeps_accents_and_drops_punctuation() -> None:
    text = normalize_text("Allô ? L’intervention est prévue à 14 h, c'est noté… « Très bien » !")
    assert text == "allô l'intervention est prévue à quatorze h c'est noté très bien"
    assert set(text) <= set(LABELS)
    assert normalize_text("Rendez-vous Où ÇA ? Œuvre") == "rendez vous où ça œuvre"


def test_error_rates() -> None:
    rates = error_rates(["le numéro est attribué"], ["le numero est attribué"])
    assert rates["wer"] == pytest.approx(0.25)
    assert rates["cer"] == pytest.approx(1 / 22)


def test_corpus_is_deterministic_and_unseen_words_are_unseen() -> None:
    train = corpus.train_sentences(3000, seed=7)
    assert train == corpus.train_sentences(3000, seed=7)
    assert len(set(train)) == len(train)
    assert corpus.unseen_word_sentences(50, seed=7) == corpus.unseen_word_sentences(50, seed=7)

    train_vocab = {w for s in train for w in normalize_text(s).split()}
    unseen = corpus.unseen_vocabulary()
    assert unseen and not unseen & train_vocab
    for sentence in corpus.unseen_word_sentences(100, seed=7):
        assert set(normalize_text(sentence).split()) & unseen, sentence

    held = {normalize_text(s) for s in corpus.heldout_sentences(100, seed=7, train_count=3000)}
    assert not held & {normalize_text(s) for s in train}
    assert not {v.name for v in corpus.unseen_voices()} & {v.name for v in corpus.train_voices()}


def _render(tmp_path: Path, texts: list[str], voices: list[str]) -> Path:
    from training.asr_train import Utterance, render

    rows = [
        render(Utterance(f"u{i}", text, voices[i % len(voices)], 150, 50, 100, i, "clean"), tmp_path)
        for i, text in enumerate(texts)
    ]
    manifest = tmp_path / "manifest.json"
    manifest.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return manifest


@needs_espeak
def test_tiny_round_trip(tmp_path: Path) -> None:
    from nemo.collections.asr.models import EncDecCTCModel

    from training.asr_train import fit

    manifest = _render(tmp_path, corpus.train_sentences(6, seed=3), ["fr", "fr-be+f2", "fr-ch+m3"])
    model, steps, _ = fit("tiny", manifest, steps=3, seed=1, batch_size=3, lr=1e-3)
    assert steps == 3
    path = tmp_path / "tiny.nemo"
    model.save_to(str(path))
    restored = EncDecCTCModel.restore_from(str(path), map_location="cpu")
    assert list(restored.cfg.labels) == LABELS
    files = [json.loads(line)["audio_filepath"] for line in manifest.read_text().splitlines()]
    texts = hypothesis_texts(restored.transcribe(files, batch_size=3, verbose=False))
    assert len(texts) == len(files) and all(isinstance(t, str) for t in texts)


@needs_espeak
@pytest.mark.skipif(not BUNDLED.exists(), reason=f"bundled model absent: {BUNDLED} (train it first)")
def test_bundled_model_transcribes_heldout_sentence(tmp_path: Path) -> None:
    from nemo.collections.asr.models import EncDecCTCModel

    metrics = json.loads((BUNDLED.parent / "metrics.json").read_text())
    count = metrics["params"]["utterances"]
    sentences = corpus.heldout_sentences(400, seed=metrics["params"]["seed"], train_count=count)[-2:]
    manifest = _render(tmp_path, sentences, ["fr+m2"])
    rows = [json.loads(line) for line in manifest.read_text().splitlines()]
    model = EncDecCTCModel.restore_from(str(BUNDLED), map_location="cpu")
    hyps = hypothesis_texts(model.transcribe([r["audio_filepath"] for r in rows], verbose=False))
    assert error_rates([r["text"] for r in rows], hyps)["cer"] < 0.3, hyps


@pytest.mark.skipif(not BUNDLED.exists(), reason=f"bundled model absent: {BUNDLED} (train it first)")
def test_bundled_model_holds_no_path_of_the_training_machine() -> None:
    from inference.asr_bundle import absolute_paths, saved_config

    assert absolute_paths(saved_config(BUNDLED)) == []


def test_bundle_clears_the_training_paths(tmp_path: Path) -> None:
    from nemo.collections.asr.models import EncDecCTCModel
    from omegaconf import open_dict

    from inference.asr_bundle import absolute_paths, bundle, saved_config
    from inference.asr_model import new_model

    model = new_model("tiny")
    cfg = model.cfg
    with open_dict(cfg):
        cfg.train_ds.manifest_filepath = str(tmp_path / "work" / "train.json")
    model.cfg = cfg
    trained = tmp_path / "out" / "tiny.nemo"
    trained.parent.mkdir()
    model.save_to(str(trained))
    assert absolute_paths(saved_config(trained))  # what the recipe writes carries its work folder
    shipped = bundle(trained, tmp_path / "models")
    assert absolute_paths(saved_config(shipped)) == []
    restored = EncDecCTCModel.restore_from(str(shipped), map_location="cpu")
    assert list(restored.cfg.labels) == list(model.cfg.labels)


@pytest.mark.skipif(not BUNDLED.exists(), reason=f"bundled model absent: {BUNDLED} (train it first)")
def test_bundled_model_on_calls_of_a_fresh_generator_seed(tmp_path: Path) -> None:
    """The bundled model on what the pipeline hears of answered calls it never saw (the generator's
    phrasing, voices and channels; seed 603 is used by no training or tuning): the whole-call transcripts,
    speech spans only, as the stage cuts them, greedy. The second model, which had learnt its templates and
    little French, scored 81 % WER / 38 % CER on such calls; the third 66.5 % / 22.0 %, the fourth (bundled)
    58.1 % / 19.1 %. The bounds catch a return to the third model or worse; the goal (≤ 12 % WER) needs a
    model that generalises (models/asr/RECIPE.md)."""
    import csv
    from datetime import date

    import soundfile

    from inference.asr import AsrConfig, CallAudio, Transcriber
    from synth import generate

    data = tmp_path / "data"
    generate(data, orders=16, seed=603, day=date(2026, 11, 12), progress=False)
    with (data / "truth" / "calls.csv").open(encoding="utf-8", newline="") as fh:
        answered = [r for r in csv.DictReader(fh) if r["outcome"] == "answered" and r["speech_onset_s"]]
    assert len(answered) >= 5
    calls = []
    for row in answered:
        samples, rate = soundfile.read(next((data / "audio").rglob(f"{row['call_id']}*")), dtype="float32")
        calls.append(CallAudio(row["call_id"], samples, rate, float(row["speech_onset_s"])))
    transcriber = Transcriber(AsrConfig(model=str(BUNDLED), device="cpu", log_file=tmp_path / "nemo.log"))
    heard = {}
    for key, transcripts in transcriber.transcribe_calls(calls):
        heard[key] = next(t.text for t in transcripts if t.channel in ("mix", "dialogue"))
    texts = [heard[r["call_id"]].replace("agent:", " ").replace("client:", " ") for r in answered]
    rates = error_rates([r["transcript"] for r in answered], texts)
    assert rates["wer"] < 0.63 and rates["cer"] < 0.21, rates
