"""What the pipeline understands of what was said, measured on its own output on calls it never saw.

Two data sets, each generated fresh and audited by the real daily flow (``callaudit run``, its own
embedded PostgreSQL under ``--work``), then compared with the generator's ground truth:

* ``synth``: the project's generator on a report seed (9101 by default) that no training or tuning uses;
* ``independent``: the same generator speaking ``benchmarks/phrases_independent.py``, a phrase bank
  written apart from ``synth/phrases.py`` and every training text (other greetings, names, reasons,
  numbers, dates), on a second report seed (9102).

Per set and per condition (sample rate, codec, channels, SNR band) it prints the whole-call WER/CER of
``raw.transcripts`` against the truth transcripts (lower-cased, digits spelled, punctuation dropped:
``inference.asr_model.error_rates``), call-type accuracy of answered calls with its confusion matrix,
rule-4 agreement per motif, the precision of ``outcome ✗``, the share of orders in ``is_review_needed``,
``compliant`` agreement, talk seconds within 0.3 s (stereo parties, mono calls) and each QA item's agreement
(phrasebanks with QA truth); and writes everything as JSON.

    .venv/bin/python benchmarks/speech_understanding.py [--orders 150] [--work /tmp/speech-bench]
        [--sets synth,independent] [--out benchmarks/results/speech_understanding.json]

Report seeds stay unseen: never train, tune or pick a threshold on 9101/9102.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flows.evaluate import pct, ratio, score  # noqa: E402

CALLAUDIT = ROOT / ".venv" / "bin" / "callaudit"
DAY = date(2026, 11, 24)
OUT = ROOT / "benchmarks" / "results" / "speech_understanding.json"


@dataclass(frozen=True)
class EvalSet:
    name: str
    seed: int
    phrasebank: str


SETS = {
    "synth": EvalSet("synth", 9101, "synth.phrases"),
    "independent": EvalSet("independent", 9102, "benchmarks.phrases_independent"),
}


def generate(s: EvalSet, data: Path, orders: int) -> None:
    if (data / "calls.csv").exists():
        return
    from synth import generate as synth_generate

    synth_generate(data, orders, s.seed, DAY, progress=False, workers=2, phrasebank=s.phrasebank)


def environment(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "DATABASE_URL"))}
    env.update(CALLAUDIT_STATE_DIR=str(work / "state"), PREFECT_HOME=str(work / "prefect"))
    return env


def audit(data: Path, work: Path) -> tuple[str, float]:
    """Run the daily flow on the data set (a re-run reuses everything); the warehouse URL and seconds."""
    env = environment(work)
    started = time.perf_counter()
    cmd = [str(CALLAUDIT), "run", "--manifests", str(data / "manifests"), "--calls", str(data / "calls.csv"),
           "--audio-root", str(data / "audio"), "--date", DAY.isoformat()]  # fmt: skip
    log = work / "run.log"
    with log.open("w", encoding="utf-8") as out:
        if subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, check=False).returncode:
            raise SystemExit(f"the daily flow failed: see {log}")
    seconds = time.perf_counter() - started
    url = subprocess.run([str(CALLAUDIT), "db", "url"], env=env, capture_output=True, text=True, check=True)
    return url.stdout.strip().splitlines()[-1], seconds


def measure(url: str, data: Path) -> dict[str, Any]:
    """The figures of ``callaudit evaluate`` (:func:`flows.evaluate.score`) in this report's shape."""
    results = score(url, data)
    verdicts = results["verdicts"]
    rule4 = {
        motif: {**counts, "agreement": ratio(counts.get("right", 0), counts["orders"])}
        for motif, counts in verdicts["outcome_by_motif"].items()
    }
    return {
        "speech": results["speech"],
        "classification": results["call_type"],
        "rule4": rule4,
        "outcome_fail_precision": verdicts["outcome_fail_precision"],
        "outcome_fails": verdicts["outcome_fails"],
        "needs_review_share": verdicts["needs_review_share"],
        "compliant_agreement": verdicts["compliant_agreement"],
        "audited_orders": verdicts["audited_orders"],
        "conversations": results["conversations"],
        "qa_items": results["qa_items"],
    }


def print_report(results: dict[str, dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    names = list(results)
    summary = Table(title="speech understanding (fresh report seeds, the pipeline's own output)")
    summary.add_column("figure")
    for name in names:
        summary.add_column(name, justify="right")
    rows: list[tuple[str, list[str]]] = [
        ("WER (whole calls)", [pct(results[n]["speech"]["all"]["wer"]) for n in names]),
        ("CER (whole calls)", [pct(results[n]["speech"]["all"]["cer"]) for n in names]),
        ("call type accuracy (answered)", [pct(results[n]["classification"]["accuracy"]) for n in names]),
        ("  trusted share", [pct(results[n]["classification"]["trusted_share"]) for n in names]),
        ("  accuracy when trusted", [pct(results[n]["classification"]["trusted_accuracy"]) for n in names]),
    ]
    motifs = sorted({m for n in names for m in results[n]["rule4"]})
    for motif in motifs:
        rows.append((f"rule 4 agreement: {motif}", [pct(results[n]["rule4"].get(motif, {}).get("agreement"))
                                                     for n in names]))  # fmt: skip
    rows += [
        (
            "outcome ✗ precision",
            [f"{pct(r['outcome_fail_precision'])} of {r['outcome_fails']}" for r in results.values()],
        ),  # fmt: skip
        ("orders in review (is_review_needed)", [pct(results[n]["needs_review_share"]) for n in names]),
        ("compliant agreement", [pct(results[n]["compliant_agreement"]) for n in names]),
        ("audited orders", [str(results[n]["audited_orders"]) for n in names]),
    ]
    for layout in ("stereo", "mono"):
        talk = [results[n]["conversations"][f"talk_within_tolerance_{layout}"] for n in names]
        rows.append((f"talk seconds within 0.3 s: {layout}", [pct(t) for t in talk]))
    items = sorted({item for n in names for item in results[n]["qa_items"]})
    for item in items:  # a phrasebank without QA truth scores none
        cells = [results[n]["qa_items"].get(item) for n in names]
        shown = ["—" if c is None else f"{pct(c['agreement'])} of {c['calls']}" for c in cells]
        rows.append((f"QA item agreement: {item}", shown))
    for label, values in rows:
        summary.add_row(label, *values)
    console.print(summary)

    by_condition = Table(title="WER / CER by condition")
    by_condition.add_column("condition")
    for name in names:
        by_condition.add_column(name, justify="right")
    keys = sorted({k for n in names for k in results[n]["speech"] if k != "all"})
    for key in keys:
        cells = []
        for n in names:
            r = results[n]["speech"].get(key)
            cells.append("—" if r is None else f"{pct(r['wer'])} / {pct(r['cer'])} (n={int(r['n'])})")
        by_condition.add_row(key, *cells)
    console.print(by_condition)
    for n in names:
        confusion = results[n]["classification"]["confusion"]
        console.print(f"call type confusion ({n}, truth->predicted): {confusion}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=150)
    parser.add_argument("--work", type=Path, default=Path("/tmp/speech-bench"))
    parser.add_argument("--sets", default="synth,independent")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    results: dict[str, dict[str, Any]] = {}
    runs: dict[str, dict[str, Any]] = {}
    for name in args.sets.split(","):
        s = SETS[name]
        work = args.work / name
        data = work / "data"
        print(f"{name}: {args.orders} orders, seed {s.seed}, words of {s.phrasebank}, in {data}", flush=True)
        generate(s, data, args.orders)
        print(f"{name}: auditing with the daily flow (log: {work / 'run.log'})", flush=True)
        url, seconds = audit(data, work)
        results[name] = measure(url, data)
        runs[name] = {"seed": s.seed, "phrasebank": s.phrasebank, "flow_seconds": round(seconds, 1)}
        stop = [str(CALLAUDIT), "db", "stop"]
        subprocess.run(stop, env=environment(work), capture_output=True, check=False)

    print_report(results)
    metrics = json.loads((ROOT / "models" / "asr" / "metrics.json").read_text())
    payload = {
        "measured_at": datetime.now(UTC).isoformat(),
        "asr_model_sha256": metrics.get("bundled_sha256") or metrics.get("model_sha256"),
        "orders": args.orders,
        "day": DAY.isoformat(),
        "runs": runs,
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
