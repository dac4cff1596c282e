"""Accuracy and speed of inference.audio_analysis on a fresh synthetic set (seed 2026, never tuned on).

Generates (or reuses) ``synth`` data, runs ``analyse_file`` on every call and compares with the ground
truth in truth/calls.csv: ring-count exact match, voicemail-beep precision/recall/F1 (events matched by
overlap), SIT recall (triplets), outcome accuracy and confusion matrix, speech-onset error (median, p95)
— overall and on calls with SNR ≥ 12 dB — and speed in seconds of audio per CPU-second (single process,
time.process_time) next to the floor of only decoding + resampling to 8 kHz the same files.

    .venv/bin/python benchmarks/audio_analysis.py [--data DIR] [--orders 120] [--seed 2026]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from datetime import date
from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inference.audio_analysis import DETECTOR_VERSION, OUTCOMES, AudioAnalysis, analyse_file  # noqa: E402

HI_SNR_DB = 12.0


def ensure_data(out: Path, orders: int, seed: int) -> Path:
    if not (out / "truth" / "calls.csv").exists():
        from synth import generate

        generate(out, orders=orders, seed=seed, day=date(2026, 11, 20), progress=False)
    return out


def overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return min(a[1], b[1]) > max(a[0], b[0])


def decode_floor(path: Path) -> None:
    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    if rate != 8000:
        g = gcd(rate, 8000)
        resample_poly(data, 8000 // g, rate // g, axis=0)


def summarise(rows: list[dict]) -> dict:
    n = len(rows)
    if not n:
        return {"calls": 0}
    ring_exact = sum(r["rings_true"] == r["rings_found"] for r in rows) / n
    tp = sum(r["beep_tp"] for r in rows)
    found = sum(r["beeps_found"] for r in rows)
    true = sum(r["beeps_true"] for r in rows)
    prec = tp / found if found else 1.0
    rec = tp / true if true else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    sit_true = sum(r["sit_true"] for r in rows)
    sit_hit = sum(min(r["sit_true"], r["sit_found"]) for r in rows)
    sit_fp = sum(max(0, r["sit_found"] - r["sit_true"]) for r in rows)
    confusion = {t: {p: 0 for p in OUTCOMES} for t in OUTCOMES}
    for r in rows:
        confusion[r["outcome_true"]][r["outcome_found"]] += 1
    acc = sum(r["outcome_true"] == r["outcome_found"] for r in rows) / n
    with_onset = [r for r in rows if r["onset_true"] is not None]
    errs = [
        abs(r["onset_found"] - r["onset_true"]) * 1000 for r in with_onset if r["onset_found"] is not None
    ]
    missed = sum(r["onset_found"] is None for r in with_onset)
    spurious = sum(r["onset_true"] is None and r["onset_found"] is not None for r in rows)
    return {
        "calls": n,
        "ring_count_exact": round(ring_exact, 4),
        "beep_precision": round(prec, 4),
        "beep_recall": round(rec, 4),
        "beep_f1": round(f1, 4),
        "beeps_true": true,
        "sit_recall": round(sit_hit / sit_true, 4) if sit_true else None,
        "sit_triplets_true": sit_true,
        "sit_false_positives": sit_fp,
        "outcome_accuracy": round(acc, 4),
        "confusion": confusion,
        "onset_calls": len(with_onset),
        "onset_missed": missed,
        "onset_spurious": spurious,
        "onset_abs_err_median_ms": round(float(np.median(errs)), 1) if errs else None,
        "onset_abs_err_p95_ms": round(float(np.percentile(errs, 95)), 1) if errs else None,
    }


def row_for(truth: dict, a: AudioAnalysis) -> dict:
    beeps = json.loads(truth["voicemail_beeps"])
    found = [(e.start_s, e.end_s) for e in a.voicemail_beeps]
    tp = sum(any(overlaps((b[0], b[1]), f) for f in found) for b in beeps)
    onset = truth["speech_onset_s"]
    return {
        "call_id": truth["call_id"],
        "snr_db": float(truth["snr_db"]),
        "sample_rate": int(truth["sample_rate"]),
        "subtype": truth["subtype"],
        "rings_true": len(json.loads(truth["ring_bursts"])),
        "rings_found": len(a.ring_bursts),
        "beeps_true": len(beeps),
        "beeps_found": len(found),
        "beep_tp": min(tp, len(found)),
        "sit_true": len(json.loads(truth["sit_tones"])) // 3,
        "sit_found": len(a.sit_tones),
        "outcome_true": truth["outcome"],
        "outcome_found": a.outcome,
        "onset_true": float(onset) if onset else None,
        "onset_found": a.speech_onset_s,
        "duration_s": a.duration_s,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=ROOT / ".state" / "bench_audio_2026")
    ap.add_argument("--orders", type=int, default=120)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "audio_analysis.json")
    args = ap.parse_args()

    data = ensure_data(args.data, args.orders, args.seed)
    with open(data / "calls.csv", newline="", encoding="utf-8") as fh:
        audio = {r["call_id"]: data / "audio" / r["audio_path"] for r in csv.DictReader(fh)}
    with open(data / "truth" / "calls.csv", newline="", encoding="utf-8") as fh:
        truths = list(csv.DictReader(fh))

    # floor first (also warms the page cache for both passes)
    t0 = time.process_time()
    for t in truths:
        decode_floor(audio[t["call_id"]])
    floor_cpu = time.process_time() - t0

    rows = []
    t0 = time.process_time()
    for t in truths:
        rows.append(row_for(t, analyse_file(audio[t["call_id"]])))
    cpu = time.process_time() - t0
    audio_s = sum(r["duration_s"] for r in rows)

    overall = summarise(rows)
    hi = summarise([r for r in rows if r["snr_db"] >= HI_SNR_DB])
    ulaw_hi = summarise([r for r in rows if r["snr_db"] >= HI_SNR_DB and r["subtype"] == "ULAW"])
    speed = {
        "audio_s": round(audio_s, 1),
        "analyse_cpu_s": round(cpu, 3),
        "x_realtime_per_core": round(audio_s / cpu, 1),
        "floor_cpu_s": round(floor_cpu, 3),
        "floor_x_realtime": round(audio_s / floor_cpu, 1),
        "ratio_to_floor": round(cpu / floor_cpu, 2),
    }
    result = {
        "detector_version": DETECTOR_VERSION,
        "data": str(data),
        "seed": args.seed,
        "orders": args.orders,
        "overall": overall,
        "snr_ge_12db": hi,
        "snr_ge_12db_ulaw": ulaw_hi,
        "speed": speed,
        "errors": [
            r
            for r in rows
            if r["rings_true"] != r["rings_found"]
            or r["outcome_true"] != r["outcome_found"]
            or r["beep_tp"] != r["beeps_true"]
            or r["beeps_found"] != r["beep_tp"]
            or r["sit_true"] != r["sit_found"]
        ],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

    keys = [
        ("calls", "calls"),
        ("ring_count_exact", "ring count exact"),
        ("beep_precision", "beep precision"),
        ("beep_recall", "beep recall"),
        ("beep_f1", "beep F1"),
        ("sit_recall", "SIT recall"),
        ("sit_false_positives", "SIT false positives"),
        ("outcome_accuracy", "outcome accuracy"),
        ("onset_calls", "calls with onset"),
        ("onset_missed", "onset missed"),
        ("onset_spurious", "onset spurious"),
        ("onset_abs_err_median_ms", "onset |err| median ms"),
        ("onset_abs_err_p95_ms", "onset |err| p95 ms"),
    ]
    print(f"audio_analysis {DETECTOR_VERSION}  data={data}")
    print(f"{'metric':<24}{'all':>12}{'SNR>=12':>12}{'SNR>=12 ulaw':>14}")
    for key, label in keys:
        print(f"{label:<24}{overall.get(key)!s:>12}{hi.get(key)!s:>12}{ulaw_hi.get(key)!s:>14}")
    print("confusion (rows true, cols found):", " ".join(f"{o:>11}" for o in OUTCOMES))
    for t in OUTCOMES:
        print(f"  {t:<12}", " ".join(f"{overall['confusion'][t][p]:>11}" for p in OUTCOMES))
    print(
        f"speed: {speed['x_realtime_per_core']}x real time per core "
        f"(floor decode+resample {speed['floor_x_realtime']}x; ratio {speed['ratio_to_floor']}x the floor)"
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
