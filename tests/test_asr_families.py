"""The transcription stage with the NeMo model families real checkpoints belong to: FastConformer CTC-BPE,
RNNT-BPE, TDT and hybrid RNNT-CTC, each a tiny random model built here (``training/asr_families.py``).

Their text is noise; what is checked is that the stage handles each family's hypotheses: chunking across a
25 s boundary, batching, stereo, 8 kHz input resampled to the model rate, word timestamps or their absence,
confidence or its absence, the hybrid decoder choice, normalised text, and one-line errors for models that
cannot be loaded.
"""

from __future__ import annotations

import hashlib
import io
import re
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from inference.asr import (
    AsrConfig,
    AsrModelError,
    CallAudio,
    Transcriber,
    model_id_for,
    normalize_transcript,
)
from tests.test_asr import noise
from training.asr_families import FAMILIES, build_family

RATE = 16000
CHUNKING = "c25.0-o0.5"


@pytest.fixture(scope="session")
def family_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One tiny ``.nemo`` per family (one SentencePiece tokenizer shared by all), built once a session."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("asr_families")
    return {family: build_family(family, out) for family in FAMILIES}


def _calls() -> list[CallAudio]:
    return [
        CallAudio("long", noise(27.0, RATE, seed=1), RATE, 0.5),  # two chunks: 0.5-25.5 s, 25.0-27.0 s
        CallAudio("stereo8k", noise(6.0, 8000, channels=2, seed=2, dtype=np.int16), 8000, 0.2),
        CallAudio("silent", noise(2.0, 8000, seed=3), 8000, None),
    ]


def _transcriber(path: Path, **kwargs: Any) -> Transcriber:
    """White-noise inputs have no speech spans: the families are heard on whole channels from the onset."""
    kwargs.setdefault("speech_only", False)
    return Transcriber(AsrConfig(model=str(path), device="cpu", torch_threads=1, **kwargs))


def _record(transcriber: Transcriber, strip: bool = False) -> tuple[list[list[int]], list[Any]]:
    """Wrap the real ``model.transcribe``: record each call's input lengths and hypotheses; with ``strip``,
    remove word timestamps and every confidence source from the hypotheses, as some checkpoints give."""
    batches: list[list[int]] = []
    hyps: list[Any] = []
    real = transcriber.model.transcribe

    def recorded(audio: list[np.ndarray], *args: Any, **kwargs: Any) -> Any:
        batches.append([len(a) for a in audio])
        out = real(audio, *args, **kwargs)
        for hyp in out[0] if isinstance(out, tuple) else out:
            if strip:
                hyp.timestamp, hyp.score, hyp.y_sequence = {}, None, []
                hyp.token_confidence = hyp.word_confidence = hyp.frame_confidence = None
            hyps.append(hyp)
        return out

    transcriber.model.transcribe = recorded
    return batches, hyps


def _check_transcripts(results: dict[str, list], model_id: str) -> None:
    assert set(results) == {"long", "stereo8k", "silent"}
    assert results["silent"] == []
    assert [t.channel for t in results["long"]] == ["mix"]
    assert [t.channel for t in results["stereo8k"]] == ["agent", "customer", "dialogue"]
    for key, onset, duration in (("long", 0.5, 27.0), ("stereo8k", 0.2, 6.0)):
        for t in results[key]:
            assert (t.model_id, t.chunking_id) == (model_id, CHUNKING)
            assert t.confidence is None or 0.0 <= t.confidence <= 1.0
            starts = [s.start_s for s in t.segments]
            assert starts == sorted(starts)
            assert all(onset - 1e-6 <= s.start_s <= s.end_s <= duration + 1e-6 for s in t.segments)
            if t.channel == "dialogue":
                assert all(line.startswith(("agent: ", "client: ")) for line in t.text.splitlines())
                continue
            assert t.text == normalize_transcript(t.text), f"{key}/{t.channel}: {t.text[:80]!r}"
            assert t.text == " ".join(s.text for s in t.segments)


@pytest.mark.parametrize("family", FAMILIES)
def test_family_through_the_stage(family: str, family_models: dict[str, Path]) -> None:
    path = family_models[family]
    t = _transcriber(path, batch_size=4, flush_timeout_s=30.0)
    batches, hyps = _record(t)
    assert t.sample_rate == RATE
    assert t.model_id == f"{path.name}@{hashlib.sha256(path.read_bytes()).hexdigest()[:12]}"
    results = dict(t.transcribe_calls(_calls()))
    _check_transcripts(results, t.model_id)
    # 2 chunks of the long call + 1 per stereo channel (8 kHz resampled to 16 kHz) in one batch of 4.
    assert batches == [[25 * RATE, round(2.0 * RATE), round(5.8 * RATE), round(5.8 * RATE)]]
    assert t._timestamps is True, f"{family}: NeMo refused word timestamps"
    assert all(isinstance(h.timestamp.get("word"), list) for h in hyps)
    assert results["long"][0].confidence is not None
    if family in ("rnnt_bpe", "tdt"):  # these emit cased, punctuated sub-words on noise: the stage folds them
        assert any(h.text != normalize_transcript(h.text) for h in hyps)
        assert any(len(tr.text.split()) > 1 for tr in results["stereo8k"][:2])


@pytest.mark.parametrize("family", FAMILIES)
def test_family_without_word_timestamps_or_confidence(family: str, family_models: dict[str, Path]) -> None:
    t = _transcriber(family_models[family], batch_size=4, flush_timeout_s=30.0)
    _, hyps = _record(t, strip=True)
    results = dict(t.transcribe_calls(_calls()))
    _check_transcripts(results, t.model_id)
    assert len(hyps) == 4
    for key in ("long", "stereo8k"):
        for tr in results[key]:
            assert tr.confidence is None
            assert all(s.confidence is None for s in tr.segments)
    long = results["long"][0]  # chunk-level units: at most one segment per chunk, cut at chunk bounds
    assert len(long.segments) <= 2
    assert all(s.start_s in (0.5, 25.0) for s in long.segments)


def test_model_ids_differ_per_family_and_decoder(family_models: dict[str, Path]) -> None:
    ids = {model_id_for(AsrConfig(model=str(p))) for p in family_models.values()}
    assert len(ids) == len(FAMILIES)
    hybrid = str(family_models["hybrid"])
    base = model_id_for(AsrConfig(model=hybrid))
    assert model_id_for(AsrConfig(model=hybrid, decoder="ctc")) == base + "+ctc"
    assert model_id_for(AsrConfig(model=hybrid, decoder="rnnt")) == base + "+rnnt"
    assert model_id_for(AsrConfig(model="nvidia/parakeet-tdt-0.6b-v3")) == "nvidia/parakeet-tdt-0.6b-v3"
    with pytest.raises(ValueError, match="decoder"):
        AsrConfig(model=hybrid, decoder="beam")


@pytest.mark.parametrize("decoder", ["ctc", "rnnt"])
def test_hybrid_decoder_is_configurable(decoder: str, family_models: dict[str, Path]) -> None:
    t = _transcriber(family_models["hybrid"], decoder=decoder, batch_size=4, flush_timeout_s=30.0)
    assert t.model.cur_decoder == decoder
    assert t.model_id.endswith(f"+{decoder}")
    _, hyps = _record(t)
    results = dict(t.transcribe_calls(_calls()))
    _check_transcripts(results, t.model_id)
    # CTC hypotheses carry per-frame log-probabilities (float), RNNT ones token ids.
    assert hyps[0].y_sequence.is_floating_point() == (decoder == "ctc")


def test_decoder_choice_on_a_non_hybrid_model_is_a_one_line_error(family_models: dict[str, Path]) -> None:
    path = family_models["ctc_bpe"]
    with pytest.raises(AsrModelError) as error:
        _transcriber(path, decoder="rnnt")
    message = str(error.value)
    assert "\n" not in message and str(path) in message and "hybrid" in message


def test_flow_stage_reads_wavs_and_writes_rows(family_models: dict[str, Path], tmp_path: Path) -> None:
    """The flow's worker path (settings → config → model → WAV files → table rows) with the hybrid model
    on its CTC decoder: a 16 kHz mono file longer than a chunk, an 8 kHz stereo file, an unreadable one."""
    from flows.config import Settings
    from flows.transcribe import _WORKER, _init_worker, _rows, _transcribe_group, asr_config

    settings = Settings(
        asr_model=str(family_models["hybrid"]), asr_decoder="ctc", asr_device="cpu", asr_speech_only=False
    )
    config = asr_config(settings)
    mono, stereo, broken = tmp_path / "mono.wav", tmp_path / "stereo.wav", tmp_path / "broken.wav"
    soundfile.write(mono, noise(26.0, RATE, seed=5), RATE, subtype="PCM_16")
    soundfile.write(stereo, noise(4.0, 8000, channels=2, seed=6), 8000, subtype="PCM_16")
    broken.write_bytes(b"RIFF not a wave")
    try:
        _init_worker(config)
        results, seconds = _transcribe_group(
            [
                ("a" * 64, str(mono), 0.0, None),
                ("b" * 64, str(stereo), 0.3, None),
                ("c" * 64, str(broken), 0.0, None),
            ]
        )
    finally:
        _WORKER.clear()
    assert seconds > 0
    outcomes = dict(results)
    assert isinstance(outcomes["c" * 64], str) and outcomes["c" * 64].startswith("LibsndfileError")
    model_id = model_id_for(config)
    assert model_id.endswith("+ctc")
    rows, segments = _rows("b" * 64, "CALL-2", outcomes["b" * 64], model_id, config.chunking_id)
    assert [r[3] for r in rows] == ["agent", "customer", "dialogue"]
    assert all(r[1:3] == (model_id, CHUNKING) and r[4] == "CALL-2" for r in rows)
    assert sum(r[7] for r in rows) == len(segments)
    [mix] = outcomes["a" * 64]
    assert mix.channel == "mix" and mix.text == normalize_transcript(mix.text)
    assert mix.segments and mix.segments[-1].end_s <= 26.0 + 1e-6


# ---------------------------------------------------------------------------------- failing loads


def _one_line(error: BaseException, *needles: str) -> None:
    message = str(error)
    assert "\n" not in message, message
    for needle in needles:
        assert needle in message, message


def test_missing_model_file(tmp_path: Path) -> None:
    missing = tmp_path / "stt_fr_fastconformer.nemo"
    with pytest.raises(FileNotFoundError) as error:
        _transcriber(missing)
    _one_line(error.value, str(missing), "file not found")


def test_files_that_are_not_nemo_checkpoints(tmp_path: Path) -> None:
    text = tmp_path / "model.nemo"
    text.write_text("not a checkpoint\n", encoding="utf-8")
    with pytest.raises(AsrModelError) as error:
        _transcriber(text)
    _one_line(error.value, str(text), "not a .nemo checkpoint")

    folder = tmp_path / "checkpoints"
    folder.mkdir()
    with pytest.raises(AsrModelError) as error:
        _transcriber(folder)
    _one_line(error.value, str(folder), "folder")

    archive = tmp_path / "weights.nemo"  # a tar archive without model_config.yaml
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo("readme.txt")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"hello"))
    with pytest.raises(AsrModelError) as error:
        _transcriber(archive)
    _one_line(error.value, str(archive), "cannot be restored")


def test_unknown_pretrained_name_without_hub() -> None:
    name = "stt_fr_callaudit_no_such_model"
    with pytest.raises(AsrModelError) as error:
        _transcriber(Path(name))
    _one_line(error.value, name, "model hub could not give")


def test_flow_worker_raises_the_load_error_with_its_first_group(tmp_path: Path) -> None:
    """A worker whose model fails to load reports the one-line error when given work (a process pool would
    otherwise only say that it broke)."""
    from flows.config import Settings
    from flows.transcribe import _WORKER, _init_worker, _transcribe_group, asr_config

    fake = tmp_path / "parakeet.nemo"
    fake.write_bytes(b"PK\x03\x04 a zip, not a tar")
    try:
        _init_worker(asr_config(Settings(asr_model=str(fake), asr_device="cpu")))
        with pytest.raises(AsrModelError) as error:
            _transcribe_group([("d" * 64, str(tmp_path / "x.wav"), 0.0, None)])
    finally:
        _WORKER.clear()
    _one_line(error.value, str(fake), "not a .nemo checkpoint")


# -------------------------------------------------------------------------------- normalisation


def test_normalize_transcript() -> None:
    cased = "Bonjour, Madame ! L’adresse est-elle correcte ? Oui: 12 rue Émile-Zola."
    assert normalize_transcript(cased) == "bonjour madame l'adresse est elle correcte oui 12 rue émile zola"
    bundled = "bonjour je suis karim de atlas télécom l'adresse est la bonne"  # the char model's alphabet
    assert normalize_transcript(bundled) == bundled
    assert normalize_transcript(" ?! … ") == ""
    assert re.fullmatch(r"[\w' ]*", normalize_transcript("«Allô» — n°5_b"))
