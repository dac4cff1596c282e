"""ASR inference: chunk planning, stitching and dialogue merge (pure), and the Transcriber mechanics with a
real, tiny NeMo CTC model with random weights (its text is garbage: only the mechanics are checked)."""

from __future__ import annotations

import hashlib
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from inference.asr import (
    AsrConfig,
    CallAudio,
    Segment,
    Transcript,
    chunk_for_model,
    merge_dialogue,
    model_id_for,
    plan_chunks,
    plan_speech_chunks,
    stitch,
)

# ----------------------------------------------------------------------------------- plan_chunks


def test_plan_chunks_60s_from_onset() -> None:
    rate = 8000
    chunks = plan_chunks(60 * rate, rate, 3.2, 25.0, 0.5)
    assert chunks == [(25_600, 225_600), (221_600, 421_600), (417_600, 480_000)]
    for (_, prev_end), (start, _) in zip(chunks, chunks[1:], strict=False):
        assert prev_end - start == int(0.5 * rate)


def test_plan_chunks_single_chunk() -> None:
    assert plan_chunks(10 * 16000, 16000, 0.0, 25.0, 0.5) == [(0, 160_000)]
    assert plan_chunks(10 * 16000, 16000, 2.0, 25.0, 0.5) == [(32_000, 160_000)]


def test_plan_chunks_no_speech() -> None:
    assert plan_chunks(60 * 8000, 8000, None, 25.0, 0.5) == []
    assert plan_chunks(60 * 8000, 8000, 61.0, 25.0, 0.5) == []
    assert plan_chunks(60 * 8000, 8000, 60.0, 25.0, 0.5) == []
    assert plan_chunks(0, 8000, 0.0, 25.0, 0.5) == []


def test_plan_chunks_last_shorter_and_ten_minutes() -> None:
    chunks = plan_chunks(600 * 8000, 8000, 0.0, 25.0, 0.5)
    assert len(chunks) == 25
    assert all(end - start == 200_000 for start, end in chunks[:-1])
    assert 0 < chunks[-1][1] - chunks[-1][0] < 200_000
    assert chunks[-1][1] == 600 * 8000
    with pytest.raises(ValueError):
        plan_chunks(1000, 8000, 0.0, 1.0, 1.0)


def test_plan_speech_chunks_pads_joins_and_splits() -> None:
    rate = 8000
    spans = [(2.0, 3.0), (3.5, 4.0), (10.0, 40.0), (59.9, 61.0)]
    chunks = plan_speech_chunks(spans, 60 * rate, rate, 25.0, 0.5, pad_s=0.3, join_s=1.0)
    seconds = [(a / rate, b / rate) for a, b in chunks]
    # 2-3 s and 3.5-4 s join (gap 0.5 s); 10-40 s is cut at 25 s with 0.5 s overlap; the last span is
    # clipped to the recording
    assert seconds == [(1.7, 4.3), (9.7, 34.7), (34.2, 40.3), (59.6, 60.0)]
    assert plan_speech_chunks([], 60 * rate, rate, 25.0, 0.5, 0.3, 1.0) == []
    apart = plan_speech_chunks([(2.0, 3.0), (5.0, 6.0)], 60 * rate, rate, 25.0, 0.5, 0.3, 1.0)
    assert len(apart) == 2
    # padding never reaches back before the onset (a ring or a beep ends there)
    floored = plan_speech_chunks([(2.0, 3.0)], 60 * rate, rate, 25.0, 0.5, 0.3, 1.0, floor_s=1.95)
    assert floored == [(round(1.95 * rate), round(3.3 * rate))]


def test_chunking_id() -> None:
    assert AsrConfig(model="m.nemo").chunking_id == "c25.0-o0.5-sp0.3-j1.0"
    assert AsrConfig(model="m.nemo", speech_only=False).chunking_id == "c25.0-o0.5"
    assert AsrConfig(model="m.nemo", chunk_s=20, overlap_s=1, speech_only=False).chunking_id == "c20.0-o1.0"
    with pytest.raises(ValueError):
        AsrConfig(model="m.nemo", speech_pad_s=-0.1)


# ----------------------------------------------------------------------------------------- stitch


def test_stitch_word_timestamps_cut_at_overlap_midpoint() -> None:
    # chunk 0 covers 0-25 s, chunk 1 covers 24.5-49.5 s: both heard "votre" (24.6) and "facture" (24.9).
    first = (
        0.0,
        25.0,
        "bonjour votre fact",
        [(1.0, 1.4, "bonjour"), (24.6, 24.8, "votre"), (24.9, 25.0, "fact")],
    )
    second = (
        24.5,
        49.5,
        "votre facture est prête",
        [(24.6, 24.8, "votre"), (24.9, 25.3, "facture"), (26.0, 26.3, "est"), (26.4, 26.8, "prête")],
    )
    result = stitch([first, second], 0.5)
    assert result.text == "bonjour votre facture est prête"
    assert result.word_level
    assert [w for _, _, w in result.units] == ["bonjour", "votre", "facture", "est", "prête"]
    starts = [s for s, _, _ in result.units]
    assert starts == sorted(starts)


def test_stitch_text_overlap_merge() -> None:
    pieces = [
        (0.0, 25.0, "bonjour je vous appelle pour", None),
        (24.5, 49.5, "appelle pour votre facture", None),
        (49.0, 60.0, "Facture, merci", None),
    ]
    result = stitch(pieces, 0.5)
    assert result.text == "bonjour je vous appelle pour votre facture merci"
    assert not result.word_level
    assert [u[:2] for u in result.units] == [(0.0, 25.0), (24.5, 49.5), (49.0, 60.0)]


def test_stitch_no_false_overlap() -> None:
    result = stitch([(0.0, 25.0, "un deux", None), (24.5, 30.0, "trois quatre", None)], 0.5)
    assert result.text == "un deux trois quatre"


def test_stitch_disjoint_chunks_keep_repeated_words() -> None:
    """Chunks that share no audio (speech spans apart) cannot repeat each other: "oui" twice is said twice."""
    result = stitch([(1.0, 2.0, "allo oui", None), (5.0, 6.0, "oui d'accord", None)], 0.5)
    assert result.text == "allo oui oui d'accord"


def test_stitch_one_chunk_passthrough() -> None:
    assert stitch([(3.0, 10.0, "allo oui", None)], 0.5).text == "allo oui"
    timed = stitch([(3.0, 10.0, "allo oui", [(3.5, 3.8, "allo"), (4.0, 4.2, "oui")])], 0.5)
    assert timed.text == "allo oui"
    assert timed.units == ((3.5, 3.8, "allo"), (4.0, 4.2, "oui"))


def test_stitch_empty_chunks() -> None:
    assert stitch([], 0.5).text == ""
    assert stitch([(0.0, 25.0, "", None), (24.5, 30.0, "", None)], 0.5).text == ""
    assert stitch([(0.0, 25.0, "", []), (24.5, 30.0, "", [])], 0.5).units == ()
    mixed = stitch(
        [
            (0.0, 25.0, "bonjour", [(1.0, 1.5, "bonjour")]),
            (24.5, 49.5, "", []),
            (49.0, 60.0, "merci", [(50, 51, "merci")]),
        ],
        0.5,
    )
    assert mixed.text == "bonjour merci"


# --------------------------------------------------------------------------------- merge_dialogue


def _transcript(channel: str, segments: list[Segment], confidence: float | None) -> Transcript:
    return Transcript(
        channel=channel,
        text=" ".join(s.text for s in segments),
        segments=tuple(segments),
        confidence=confidence,
        model_id="m@abc",
        chunking_id="c25.0-o0.5",
    )


def test_merge_dialogue_orders_turns() -> None:
    agent = _transcript(
        "agent",
        [
            Segment(0.5, 2.0, "bonjour", 0.9),
            Segment(5.0, 6.0, "d'accord", 0.8),
            Segment(6.5, 7.0, "merci", 0.6),
        ],
        0.8,
    )
    customer = _transcript("customer", [Segment(2.5, 4.0, "oui bonjour", 0.7)], 0.6)
    dialogue = merge_dialogue(agent, customer)
    assert dialogue.channel == "dialogue"
    assert dialogue.text == "agent: bonjour\nclient: oui bonjour\nagent: d'accord merci"
    assert [s.start_s for s in dialogue.segments] == [0.5, 2.5, 5.0]
    assert dialogue.segments[-1].end_s == 7.0
    assert dialogue.segments[-1].confidence == pytest.approx(0.7)
    assert dialogue.confidence == pytest.approx(0.7)
    assert (dialogue.model_id, dialogue.chunking_id) == ("m@abc", "c25.0-o0.5")


# ------------------------------------------------------------------------------------- audio prep


def test_chunk_for_model_resamples_and_pads() -> None:
    x = (np.sin(np.arange(8000 * 30) / 10) * 10000).astype(np.int16)
    out = chunk_for_model(x, 8000, 8000 * 26, 8000, 16000)
    assert out.dtype == np.float32 and out.shape == (16000 * 25,)
    assert np.abs(out).max() <= 1.0
    short = chunk_for_model(x, 0, 800, 8000, 16000)  # 0.1 s → right-padded to 1 s
    assert short.shape == (16000,) and not short[1600:].any()


# ------------------------------------------------------------------------- Transcriber (real NeMo)

LABELS = list(" abcdefghijklmnopqrstuvwxyz'éèà")


@pytest.fixture(scope="module")
def tiny_nemo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real NeMo EncDecCTCModel (1 Conformer layer, d_model 32, random weights) saved as a .nemo file."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    torch.manual_seed(0)
    from nemo.collections.asr.models import EncDecCTCModel
    from omegaconf import OmegaConf

    cfg = OmegaConf.create(
        {
            "sample_rate": 16000,
            "labels": LABELS,
            "preprocessor": {
                "_target_": "nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor",
                "sample_rate": 16000,
                "features": 64,
                "window_size": 0.025,
                "window_stride": 0.01,
                "n_fft": 512,
                "normalize": "per_feature",
                "dither": 0.0,
                "pad_to": 0,
            },
            "encoder": {
                "_target_": "nemo.collections.asr.modules.ConformerEncoder",
                "feat_in": 64,
                "feat_out": -1,
                "n_layers": 1,
                "d_model": 32,
                "n_heads": 2,
                "subsampling": "striding",
                "subsampling_factor": 4,
                "subsampling_conv_channels": 32,
                "ff_expansion_factor": 2,
                "conv_kernel_size": 9,
            },
            "decoder": {
                "_target_": "nemo.collections.asr.modules.ConvASRDecoder",
                "feat_in": 32,
                "num_classes": len(LABELS),
                "vocabulary": LABELS,
            },
            "decoding": {"strategy": "greedy"},
            "train_ds": None,
            "validation_ds": None,
            "test_ds": None,
            "optim": None,
        }
    )
    path = tmp_path_factory.mktemp("asr") / "tiny_ctc.nemo"
    EncDecCTCModel(cfg=cfg).save_to(str(path))
    return path


def noise(seconds: float, rate: int, channels: int = 1, seed: int = 0, dtype: Any = np.float32) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = (int(seconds * rate),) if channels == 1 else (int(seconds * rate), channels)
    x = rng.standard_normal(shape) * 0.1
    if np.dtype(dtype).kind == "i":
        return (x * 32767).astype(dtype)
    return x.astype(dtype)


def _counting(transcriber: Any) -> list[list[int]]:
    """Wrap the real ``model.transcribe`` to record the sample count of every input of every call (and keep
    the hypotheses in ``transcriber.test_outputs``)."""
    batches: list[list[int]] = []
    real = transcriber.model.transcribe

    transcriber.test_outputs = []

    def counted(audio: list[np.ndarray], *args: Any, **kwargs: Any) -> Any:
        batches.append([len(a) for a in audio])
        out = real(audio, *args, **kwargs)
        transcriber.test_outputs.extend(out)
        return out

    transcriber.model.transcribe = counted
    return batches


def _transcriber(path: Path, **kwargs: Any) -> Any:
    """A transcriber of the tiny model; the machinery tests feed it white noise, which has no speech spans,
    so they hear whole channels from the onset unless they ask for ``speech_only``."""
    from inference.asr import Transcriber

    kwargs.setdefault("speech_only", False)
    return Transcriber(AsrConfig(model=str(path), device="cpu", torch_threads=1, **kwargs))


def test_transcriber_mono_stereo_and_no_speech(tiny_nemo: Path) -> None:
    t = _transcriber(tiny_nemo, flush_timeout_s=30.0)
    calls = [
        CallAudio("mono", noise(30, 16000, seed=1), 16000, 1.0),
        CallAudio("stereo", noise(12, 8000, channels=2, seed=2, dtype=np.int16), 8000, 0.5),
        CallAudio("silent", noise(5, 8000, seed=3), 8000, None),
    ]
    results = dict(t.transcribe_calls(calls))
    assert set(results) == {"mono", "stereo", "silent"}
    assert results["silent"] == []
    assert [tr.channel for tr in results["mono"]] == ["mix"]
    assert [tr.channel for tr in results["stereo"]] == ["agent", "customer", "dialogue"]
    for key, onset in (("mono", 1.0), ("stereo", 0.5)):
        for tr in results[key]:
            assert tr.model_id == t.model_id and tr.chunking_id == "c25.0-o0.5"
            assert tr.segments, f"{key}/{tr.channel}: the random model always emits characters on noise"
            starts = [s.start_s for s in tr.segments]
            assert starts == sorted(starts)
            assert starts[0] >= onset - 1e-6
            assert all(s.end_s >= s.start_s for s in tr.segments)
            assert tr.confidence is not None and 0.0 <= tr.confidence <= 1.0
    mono = results["mono"][0]
    assert mono.segments[-1].end_s <= 30.0 + 1e-6
    assert mono.text == " ".join(s.text for s in mono.segments)
    dialogue = results["stereo"][2]
    assert all(line.startswith(("agent: ", "client: ")) for line in dialogue.text.splitlines())


def test_transcriber_hears_only_speech_spans(tiny_nemo: Path) -> None:
    """Stereo call, agent speaking 2-5 s and 9-11 s over a quiet line, customer silent: the model gets the
    agent's padded spans only, the customer channel nothing, and segments stay inside the spans."""
    from tests.test_audio_analysis import speech_like

    rate = 16000
    rng = np.random.default_rng(4)
    agent = 0.002 * rng.standard_normal(14 * rate)
    agent[2 * rate : 5 * rate] += speech_like(3.0, rate, seed=1)
    agent[9 * rate : 11 * rate] += speech_like(2.0, rate, seed=2)
    customer = 0.002 * rng.standard_normal(14 * rate)
    t = _transcriber(tiny_nemo, speech_only=True, flush_timeout_s=30.0)
    batches = _counting(t)
    [(key, transcripts)] = list(
        t.transcribe_calls([CallAudio("c", np.stack([agent, customer], 1), rate, 2.0)])
    )
    heard = sum(n for batch in batches for n in batch) / rate
    assert 4.5 < heard < 6.5, heard  # about 3 + 2 s of speech plus padding, not 2 x 12 s from the onset
    agent_t, customer_t, dialogue = transcripts
    assert agent_t.chunking_id == "c25.0-o0.5-sp0.3-j1.0"
    assert customer_t.text == "" and customer_t.segments == ()
    assert agent_t.segments
    assert all(s.start_s >= 1.5 and s.end_s <= 11.5 for s in agent_t.segments)
    assert not any(5.5 < s.start_s < 8.5 for s in agent_t.segments)
    assert dialogue.text.startswith("agent: ") and "client:" not in dialogue.text
    # spans given by the caller (the stage passes the call-progress analysis) are used as they are
    t2 = _transcriber(tiny_nemo, speech_only=True, flush_timeout_s=30.0)
    batches2 = _counting(t2)
    given = (((9.0, 10.0),), ())
    list(t2.transcribe_calls([CallAudio("c", np.stack([agent, customer], 1), rate, 2.0, speech=given)]))
    assert [n for batch in batches2 for n in batch] == [round(1.6 * rate)]


def test_transcriber_batches_across_calls(tiny_nemo: Path) -> None:
    t = _transcriber(tiny_nemo, batch_size=4, flush_timeout_s=30.0)
    batches = _counting(t)
    calls = [CallAudio(f"c{i}", noise(30, 16000, seed=i), 16000, 0.0) for i in range(3)]  # 2 chunks each
    keys = [key for key, transcripts in t.transcribe_calls(calls) if len(transcripts) == 1]
    assert keys == ["c0", "c1", "c2"]
    assert [len(b) for b in batches] == [4, 2]


def test_transcriber_flushes_partial_batch_when_input_is_slow(tiny_nemo: Path) -> None:
    t = _transcriber(tiny_nemo, batch_size=8, flush_timeout_s=0.2)
    batches = _counting(t)
    produced: dict[str, float] = {}

    def slow() -> Iterator[CallAudio]:
        produced["a"] = time.monotonic()
        yield CallAudio("a", noise(3, 16000, seed=1), 16000, 0.0)
        time.sleep(2.0)
        produced["b"] = time.monotonic()
        yield CallAudio("b", noise(3, 16000, seed=2), 16000, 0.0)

    received: dict[str, float] = {}
    for key, _ in t.transcribe_calls(slow()):
        received[key] = time.monotonic()
    assert received["a"] < produced["b"], "call a waited for call b instead of flushing"
    assert [len(b) for b in batches] == [1, 1]
    assert threading.active_count() < 10


def test_transcriber_ten_minute_call_is_bounded(tiny_nemo: Path) -> None:
    t = _transcriber(tiny_nemo, batch_size=4, flush_timeout_s=30.0)
    batches = _counting(t)
    call = CallAudio("long", noise(600, 8000, seed=4, dtype=np.int16), 8000, 0.0)
    assert len(plan_chunks(len(call.samples), 8000, 0.0, 25.0, 0.5)) == 25
    tracemalloc.start()
    try:
        results = list(t.transcribe_calls([call]))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 200 * 2**20, f"peak {peak / 2**20:.0f} MiB"
    assert sum(len(b) for b in batches) == 25
    assert max(max(b) for b in batches) <= int(25.0 * t.sample_rate)
    assert max(len(b) for b in batches) <= 4
    [(key, [mix])] = results
    assert key == "long" and mix.channel == "mix"
    assert mix.segments[-1].end_s <= 600.0 + 1e-6
    # NeMo gave CTC word timestamps for every chunk (segments are word groups, not whole chunks).
    assert all(isinstance(h.timestamp.get("word"), list) for h in t.test_outputs)


def test_model_id_is_stable_and_hashed(tiny_nemo: Path) -> None:
    digest = hashlib.sha256(tiny_nemo.read_bytes()).hexdigest()[:12]
    first, second = _transcriber(tiny_nemo), _transcriber(tiny_nemo)
    assert first.model_id == second.model_id
    assert digest in first.model_id and tiny_nemo.name in first.model_id
    assert first.sample_rate == 16000
    assert model_id_for(AsrConfig(model=str(tiny_nemo))) == first.model_id
    assert model_id_for(AsrConfig(model="stt_fr_conformer_ctc_large")) == "stt_fr_conformer_ctc_large"
    with pytest.raises(FileNotFoundError):
        model_id_for(AsrConfig(model=str(tiny_nemo.with_name("missing.nemo"))))


def test_transcriber_reraises_bad_input(tiny_nemo: Path) -> None:
    t = _transcriber(tiny_nemo)
    bad = CallAudio("bad", np.zeros((10, 2, 2), np.float32), 8000, 0.0)
    with pytest.raises(ValueError, match="samples must be"):
        list(t.transcribe_calls([bad]))


def test_nemo_logs_go_to_the_log_file_not_the_terminal(
    tiny_nemo: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    log_file = tmp_path / "logs" / "callaudit.log"
    capfd.readouterr()
    _transcriber(tiny_nemo, log_file=log_file)
    terminal = "".join(capfd.readouterr())
    assert "NeMo" not in terminal and "OneLogger" not in terminal, terminal[:2000]
    assert "successfully restored" in log_file.read_text(encoding="utf-8")
