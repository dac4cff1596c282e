"""Accuracy and speed of the bundled French CTC model (models/asr/callaudit-fr-ctc-small.nemo).

Regenerates the four evaluation sets of the training recipe deterministically (held-out sentences,
unseen words, unseen voices, 8 kHz mu-law telephone), reports WER/CER on each, the real-time factor of the
bare model's ``transcribe()`` (batch 8, one torch thread), and WER on real human English speech from
Debian's ``pocketsphinx-testdata`` when it can be fetched (the model is French and synthetic: expect it
to be very poor there; that number is a reminder, not a goal).

    .venv/bin/python benchmarks/asr.py [--model PATH] [--work /tmp/asr-bench] [--size 100]
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

from inference.asr_model import error_rates, hypothesis_texts  # noqa: E402
from inference.asr_train import EVAL_SIZE, eval_sets  # noqa: E402

MODEL = ROOT / "models" / "asr" / "callaudit-fr-ctc-small.nemo"


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--work", type=Path, default=Path("/tmp/asr-bench"))
    parser.add_argument("--size", type=int, default=EVAL_SIZE)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "asr.json")
    args = parser.parse_args()
    if not args.model.exists():
        print(f"no model at {args.model}; train it with python -m inference.asr_train", file=sys.stderr)
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

    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"measured_at": datetime.now(UTC).isoformat(), "model": args.model.name, "results": results,
               "speed": speed}  # fmt: skip
    args.out.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
