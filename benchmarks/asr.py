"""Accuracy and speed of the bundled French CTC model (models/asr/callaudit-fr-ctc-small.nemo).

Regenerates the four evaluation sets of the training recipe deterministically (held-out sentences,
unseen words, unseen voices, 8 kHz mu-law telephone), reports WER/CER on each, the real-time factor of the
bare model's ``transcribe()`` (batch 8, one torch thread), and WER on real human English speech from
Debian's ``pocketsphinx-testdata`` when it can be fetched (the model is French and synthetic: expect it
to be very poor there; that number is a reminder, not a goal).

The stage: demo calls from the generator (``synth``) go through ``Transcriber.transcribe_calls`` (read,
cut from the speech onset, resample, batch across calls, stitch, merge the dialogue) and, in the same run,
exactly the same chunk arrays go through the bare model's ``transcribe()`` in the same batches; the
stage's overhead is the ratio of the two (target <= 10 %), its speed the real-time factor over the calls'
audio. Each side runs ``--repeats`` times, alternating, and the fastest run of each is kept.

    .venv/bin/python benchmarks/asr.py [--model PATH] [--work /tmp/asr-bench] [--size 100] [--orders 30]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inference.asr_model import BUNDLED_MODEL, error_rates, hypothesis_texts  # noqa: E402
from training.asr_train import EVAL_SIZE, eval_sets  # noqa: E402

MODEL = BUNDLED_MODEL


def pocketsphinx_testdata(work: Path) -> list[tuple[Path, str]] | str:
    """(wav, reference) pairs of real English speech, or the reason they are unavailable."""
    target = work / "pocketsphinx-testdata"
    if not target.exists():
        try:
            subprocess.run(["apt-get", "download", "pocketsphinx-testdata"], cwd=work, check=True,
                           capture_output=True, timeout=120)  # fmt: skip
            deb = next(work.glob("pocketsphinx-testdata_*.deb"))
            subprocess.run(["dpkg", "-x", str(deb), str(target)], check=True, capture_output=True)
        except (subprocess.SubprocessError, StopIteration, OSError) as exc:
            return f"unavailable: {type(exc).__name__}: {getattr(exc, 'stderr', b'')!s:.200}"
    pairs: list[tuple[Path, str]] = []
    for transcription in target.rglob("*transcription"):
        for line in transcription.read_text(errors="replace").splitlines():
            if "(" not in line:
                continue
            text, _, utt_id = line.rpartition("(")
            wavs = list(transcription.parent.rglob(utt_id.strip(") ") + ".wav"))
            words = [w for w in text.split() if not w.startswith("<")]
            if wavs and words:
                pairs.append((wavs[0], " ".join(words).lower()))
    return pairs or "unavailable: no transcribed WAVs in the package"


def transcribe(model: Any, files: list[str]) -> tuple[list[str], float]:
    started = time.perf_counter()
    texts = hypothesis_texts(model.transcribe(files, batch_size=8, verbose=False))
    return texts, time.perf_counter() - started


def demo_calls(work: Path, orders: int) -> list[Any]:
    """Recordings of the demo generator with their speech onsets, as the transcription stage gets them."""
    import csv
    from datetime import date

    import soundfile as sf

    from inference.asr import CallAudio
    from synth import generate

    out = work / f"demo-{orders}"
    if not (out / "truth" / "calls.csv").exists():
        generate(out, orders=orders, seed=11, day=date(2026, 11, 20))
    calls = []
    with open(out / "calls.csv", newline="", encoding="utf-8") as fh:
        paths = {r["call_id"]: r["audio_path"] for r in csv.DictReader(fh)}
    with open(out / "truth" / "calls.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if not row["speech_onset_s"]:
                continue
            samples, rate = sf.read(out / "audio" / paths[row["call_id"]], dtype="float32", always_2d=False)
            calls.append(CallAudio(row["call_id"], samples, rate, float(row["speech_onset_s"])))
    return calls


def stage_overhead(model_path: Path, calls: list[Any], repeats: int) -> dict[str, Any]:
    """Seconds of the whole in-process stage vs the bare model on the same chunks, same batches."""
    from inference.asr import AsrConfig, Transcriber, channels_of, chunk_for_model

    config = AsrConfig(model=str(model_path), batch_size=8)
    transcriber = Transcriber(config)
    arrays = []
    for call in calls:
        channels = channels_of(call.samples)
        plans = transcriber.chunk_plan(call, [len(samples) for _, samples in channels])
        for (_, samples), plan in zip(channels, plans, strict=True):
            for start, end in plan:
                arrays.append(chunk_for_model(samples, start, end, call.sample_rate, transcriber.sample_rate))
    batches = [arrays[i : i + config.batch_size] for i in range(0, len(arrays), config.batch_size)]

    def bare() -> float:
        import torch

        started = time.perf_counter()
        with torch.inference_mode():
            for batch in batches:
                transcriber.model.transcribe(
                    batch, batch_size=len(batch), return_hypotheses=True, timestamps=True, verbose=False
                )
        return time.perf_counter() - started

    def stage() -> float:
        started = time.perf_counter()
        done = sum(1 for _ in transcriber.transcribe_calls(calls))
        assert done == len(calls)
        return time.perf_counter() - started

    bare(), stage()  # warm-up: first calls allocate and cache
    bare_s, stage_s = [], []
    for _ in range(repeats):
        bare_s.append(bare())
        stage_s.append(stage())
    audio_s = sum(len(c.samples) / c.sample_rate for c in calls)
    model_input_s = sum(len(a) for a in arrays) / transcriber.sample_rate
    best_bare, best_stage = min(bare_s), min(stage_s)
    return {
        "calls": len(calls),
        "chunks": len(arrays),
        "call_audio_seconds": round(audio_s, 1),
        "model_input_seconds": round(model_input_s, 1),
        "bare_transcribe_seconds": [round(x, 2) for x in bare_s],
        "stage_seconds": [round(x, 2) for x in stage_s],
        "overhead": round(best_stage / best_bare - 1, 4),
        "stage_real_time_factor": round(best_stage / audio_s, 4),
        "stage_x_real_time": round(audio_s / best_stage, 1),
        "batch_size": config.batch_size,
        "torch_threads": 1,
        "device": str(transcriber.device),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--work", type=Path, default=Path("/tmp/asr-bench"))
    parser.add_argument("--size", type=int, default=EVAL_SIZE)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "asr.json")
    parser.add_argument("--orders", type=int, default=30, help="demo orders whose calls time the stage")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not args.model.exists():
        print(f"no model at {args.model}; train it with python -m training.asr_train", file=sys.stderr)
        return 1

    import soundfile as sf
    import torch
    from nemo.collections.asr.models import EncDecCTCModel

    torch.set_num_threads(1)
    metrics_path = args.model.parent / "metrics.json"
    params = json.loads(metrics_path.read_text())["params"] if metrics_path.exists() else {}
    seed, train_count = params.get("seed", 7), params.get("utterances", 6000)
    args.work.mkdir(parents=True, exist_ok=True)
    model = EncDecCTCModel.restore_from(str(args.model), map_location="cpu")
    model.eval()

    results: dict[str, Any] = {}
    audio_s = compute_s = 0.0
    for name, manifest in eval_sets(args.work, seed, args.size, train_count).items():
        rows = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines()]
        hyps, seconds = transcribe(model, [r["audio_filepath"] for r in rows])
        results[name] = error_rates([r["text"] for r in rows], hyps)
        audio_s += sum(r["duration"] for r in rows)
        compute_s += seconds

    real = pocketsphinx_testdata(args.work)
    if isinstance(real, str):
        results["real_english_pocketsphinx"] = real
    else:
        hyps, _ = transcribe(model, [str(p) for p, _ in real])
        results["real_english_pocketsphinx"] = {
            **error_rates([t for _, t in real], hyps),
            "audio_seconds": round(sum(sf.info(str(p)).duration for p, _ in real), 1),
            "example": {"reference": real[0][1], "hypothesis": hyps[0]},
        }
    speed = {
        "audio_seconds": round(audio_s, 1),
        "compute_seconds": round(compute_s, 1),
        "real_time_factor": round(compute_s / audio_s, 4),
        "batch_size": 8,
        "torch_threads": 1,
    }

    print(f"{'set':<28}{'WER':>8}{'CER':>8}{'n':>6}")
    for name, value in results.items():
        if isinstance(value, dict):
            print(f"{name:<28}{value['wer']:>8.3f}{value['cer']:>8.3f}{int(value['n']):>6}")
        else:
            print(f"{name:<28}{value}")
    print(f"real-time factor {speed['real_time_factor']} ({compute_s:.1f} s for {audio_s:.1f} s of audio)")
    overhead = stage_overhead(args.model, demo_calls(args.work, args.orders), args.repeats)
    print(
        f"stage on {overhead['calls']} demo calls ({overhead['call_audio_seconds']} s audio, "
        f"{overhead['chunks']} chunks): best {min(overhead['stage_seconds'])} s vs bare transcribe() "
        f"{min(overhead['bare_transcribe_seconds'])} s -> overhead {100 * overhead['overhead']:.1f}%, "
        f"{overhead['stage_x_real_time']}x real time"
    )

    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"measured_at": datetime.now(UTC).isoformat(), "model": args.model.name, "results": results,
               "speed": speed, "stage": overhead}  # fmt: skip
    args.out.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
