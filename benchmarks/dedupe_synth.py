"""Duplicate detection on the synthetic set, through the real pipeline (issue 6).

Generates a synthetic data set with many planted duplicate attempts (``synth.generate(duplicates=N)``: a
third each of ``identical`` — the same file under another call id —, ``reencoded`` — the same conversation in
another format, sample rate and gain — and ``other_order`` — the same file claimed for another order), next
to the ordinary calls, whose scripted phrases and ring-backs make many of them look alike. Then runs the real
daily flow on it (``flows.daily.daily_compliance``: ingest → audio analysis → ASR → redaction →
classification → embeddings → dbt build → GX) on its own embedded PostgreSQL (its own
``CALLAUDIT_STATE_DIR`` under /tmp) and compares what the warehouse says with the generator's ground truth:

* calls: ``intermediate.int_attempt_duplicates`` against ``truth/calls.csv`` (duplicate_of, duplicate_kind):
  recall per planted kind (a hit names the right original), precision per detected kind, overall;
* orders: ``marts.order_compliance`` (is_duplicate_ok, counted_attempts) against ``truth/orders.csv``;
* margins: for every pair of distinct recordings with a transcript, the fingerprint distances the dbt model
  compares (same tone kinds; onset, duration and speech gaps; tone-edge error beyond the onsets' shift; tone
  frequency error) and the embedding cosine, recomputed here from ``int_recorded_calls`` and the embeddings:
  their distributions for the true re-encoded pairs, and for the closest non-duplicates (by text alone, and
  those that pass each audio check in turn), so how far each threshold sits from each side is visible.

The tolerances and thresholds were chosen on the tuning seeds (``TUNING_SEEDS``); the reported numbers are
those of another seed (``REPORT_SEED``, the default), run once the model was final. Results of each seed are
kept side by side in the JSON (benchmarks/results/dedupe_synth.json), under ``runs``; ``HISTORY`` says how
the seeds were used.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/dedupe_synth.py [--seed 202] [--orders 300] \\
        [--duplicates 90] [--state-dir /tmp/callaudit-dedupe-synth] [--reuse] [--out FILE]

One script (about 600 lines), a development tool: generating, running and scoring one labelled set
end to end in one process.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TUNING_SEEDS = (101, 202)  # the seeds the tolerances and thresholds were chosen on
REPORT_SEED = 404  # the seed whose numbers are reported
HISTORY = (
    "Tolerances and the 0.6 timeline similarity were chosen on seed 101 (re-encoded copies: edges within "
    "0.01 s, cosine >= 0.771). Seed 202, run next as the report seed, met every target but its copies went "
    "down to cosine 0.649, all of them 16 kHz originals copied at 8 kHz: the timeline similarity was lowered "
    "to 0.5 and 202 became a tuning seed. Seed 404, never run before the model was final, is the report seed."
)
DAY = "2026-11-20"
ORDERS, DUPLICATES = 300, 90  # 30 of each kind; ~13 min on 2 cores (ASR is most of it)
DEFAULT_STATE = Path("/tmp/callaudit-dedupe-synth")
OUT = ROOT / "benchmarks" / "results" / "dedupe_synth.json"
MODEL_SQL = ROOT / "dbt_project" / "models" / "intermediate" / "int_attempt_duplicates.sql"
DBT_PROJECT = ROOT / "dbt_project" / "dbt_project.yml"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=REPORT_SEED)
    parser.add_argument("--orders", type=int, default=ORDERS)
    parser.add_argument("--duplicates", type=int, default=DUPLICATES, help="planted duplicate attempts")
    parser.add_argument("--date", default=DAY, help="manifest day of the synthetic set")
    parser.add_argument(
        "--state-dir", type=Path, default=None, help=f"default {DEFAULT_STATE}/seed-<seed> (wiped first)"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="keep the state dir: reuse its data set and warehouse"
    )
    parser.add_argument("--keep-server", action="store_true", help="leave the embedded PostgreSQL running")
    parser.add_argument("--out", type=Path, default=OUT)
    return parser.parse_args(argv)


# The state dir must be in the environment before flows (Prefect's home, the embedded database) is imported.
ARGS = parse_args(None) if __name__ == "__main__" else None
if ARGS is not None:
    _state = ARGS.state_dir or DEFAULT_STATE / f"seed-{ARGS.seed}"
    os.environ["CALLAUDIT_STATE_DIR"] = str(_state)
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.pop("DATABASE_URL", None)  # always the benchmark's own embedded database

import csv  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import asdict, dataclass  # noqa: E402
from datetime import UTC, date, datetime  # noqa: E402
from itertools import combinations  # noqa: E402

import numpy as np  # noqa: E402

KINDS = ("identical", "reencoded", "other_order")
DETECTED_KINDS = ("identical", "reencoded")


# ----------------------------------------------------------------------------------- settings of the model


def model_settings() -> dict[str, float]:
    """The detector's tolerances: the defaults of int_attempt_duplicates.sql, duplicate_similarity from
    dbt_project.yml (read, not repeated here, so the report always describes the model that ran)."""
    sql = MODEL_SQL.read_text(encoding="utf-8")
    found = {name: float(value) for name, value in re.findall(r"var\('(duplicate_\w+)',\s*([0-9.]+)\)", sql)}
    yml = DBT_PROJECT.read_text(encoding="utf-8")
    found["duplicate_similarity"] = float(re.search(r"^\s*duplicate_similarity:\s*([0-9.]+)", yml, re.M)[1])
    return found


# ----------------------------------------------------------------------------------- run


def generate(data: Path, orders: int, seed: int, day: date, duplicates: int) -> tuple[dict, float]:
    from synth import generate as synth_generate

    started = time.perf_counter()
    summary = synth_generate(data, orders=orders, seed=seed, day=day, progress=False, duplicates=duplicates)
    return asdict(summary), time.perf_counter() - started


def run_flow(data: Path, day: date) -> tuple[dict, float]:
    from flows.daily import daily_compliance

    started = time.perf_counter()
    summary = daily_compliance(
        date=day,
        manifests_dir=str(data / "manifests"),
        calls_file=str(data / "calls.csv"),
        audio_root=str(data / "audio"),
    )
    seconds = time.perf_counter() - started
    keep = (
        "rows_inserted",
        "recordings_analysed",
        "recordings_transcribed",
        "recordings_redacted",
        "calls_classified",
        "recordings_embedded",
        "dbt_nodes",
        "expectations",
    )
    return {k: getattr(summary, k) for k in keep}, seconds


# ----------------------------------------------------------------------------------- truth and warehouse


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@dataclass
class Recording:
    sha: str
    calls: list[str]
    tone_kinds: tuple[str, ...]
    tone_starts: np.ndarray
    tone_ends: np.ndarray
    tone_frequencies: np.ndarray
    onset_s: float
    duration_s: float
    speech_s: float
    embedding: np.ndarray


def warehouse(url: str) -> dict:
    import psycopg

    with psycopg.connect(url) as conn:
        found = {
            r[0]: (r[1], r[2], r[3])
            for r in conn.execute(
                "select call_id, original_call_id, duplicate_kind, similarity "
                "from intermediate.int_attempt_duplicates"
            )
        }
        orders = {
            (r[0], r[1]): {"duplicate_ok": r[2], "attempts": r[3], "counted_attempts": r[4]}
            for r in conn.execute(
                "select order_type, order_id, is_duplicate_ok, attempts, counted_attempts "
                "from marts.order_compliance"
            )
        }
        flagged = {
            r[0]: r[1]
            for r in conn.execute(
                "select call_id, duplicate_of_call_id from marts.call_attempts where is_duplicate"
            )
        }
        rows = conn.execute(
            """select c.call_id, c.audio_sha256, c.tone_kinds, c.tone_starts_s, c.tone_ends_s,
                      c.tone_frequencies_hz, c.speech_onset_s, c.audio_duration_s::float8, c.speech_s,
                      e.embedding::text
               from intermediate.int_recorded_calls c
               join staging.stg_raw__transcript_embeddings e on e.audio_sha256 = c.audio_sha256
               where c.speech_onset_s is not null
               order by c.started_at, c.call_id"""
        ).fetchall()
        asr = conn.execute("select count(*) from raw.transcripts where length(trim(text)) > 0").fetchone()[0]
    recordings: dict[str, Recording] = {}
    for call_id, sha, kinds, starts, ends, freqs, onset, duration, speech, emb in rows:
        if sha in recordings:
            recordings[sha].calls.append(call_id)
            continue
        vector = np.array([float(x) for x in emb.strip("[]").split(",")])
        recordings[sha] = Recording(
            sha,
            [call_id],
            tuple(kinds),
            np.array(starts, dtype=float),
            np.array(ends, dtype=float),
            np.array(freqs, dtype=float),
            float(onset),
            float(duration),
            float(speech),
            vector / np.linalg.norm(vector),
        )
    return {
        "found": found,
        "orders": orders,
        "flagged": flagged,
        "recordings": recordings,
        "transcripts": asr,
    }


# ----------------------------------------------------------------------------------- scores


def ratio(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def call_scores(truth: dict[str, dict[str, str]], found: dict[str, tuple]) -> dict:
    """Recall per planted kind, precision per detected kind, overall; the errors, named."""
    planted = {c: t for c, t in truth.items() if t["duplicate_of"]}
    correct = {c for c, (orig, *_) in found.items() if planted.get(c, {}).get("duplicate_of") == orig}
    recall = {}
    for kind in KINDS:
        ids = [c for c, t in planted.items() if t["duplicate_kind"] == kind]
        hits = sum(c in correct for c in ids)
        flagged = sum(c in found for c in ids)
        recall[kind] = {
            "planted": len(ids),
            "found": hits,
            "flagged_any_original": flagged,
            "recall": ratio(hits, len(ids)),
        }
    precision = {}
    for kind in DETECTED_KINDS:
        ids = [c for c, (_, k, _) in found.items() if k == kind]
        hits = sum(c in correct for c in ids)
        precision[kind] = {"detected": len(ids), "correct": hits, "precision": ratio(hits, len(ids))}
    overall = {
        "planted": len(planted),
        "detected": len(found),
        "correct": len(correct),
        "precision": ratio(len(correct), len(found)),
        "recall": ratio(len(correct), len(planted)),
    }
    false_positives = [
        {
            "call_id": c,
            "original_call_id": orig,
            "kind": kind,
            "similarity": sim,
            "truth_duplicate_of": truth[c]["duplicate_of"] or None,
        }
        for c, (orig, kind, sim) in sorted(found.items())
        if c not in correct
    ]
    misses = [
        {
            "call_id": c,
            "duplicate_of": t["duplicate_of"],
            "kind": t["duplicate_kind"],
            "found_original": found.get(c, (None,))[0],
        }
        for c, t in sorted(planted.items())
        if c not in correct
    ]
    return {
        "recall_by_planted_kind": recall,
        "precision_by_detected_kind": precision,
        "overall": overall,
        "false_positives": false_positives,
        "misses": misses,
    }


def order_scores(truth_orders: list[dict[str, str]], orders: dict) -> dict:
    """marts.order_compliance against the truth: the duplicate rule and the attempts it counts."""
    audited = {(o["order_type"], o["order_id"]): o for o in truth_orders if o["audited"] == "true"}
    want = {k for k, o in audited.items() if o["duplicate_ok"] == "false"}
    got = {k for k, o in orders.items() if o["duplicate_ok"] is False}
    counted = sum(
        orders.get(k, {}).get("counted_attempts") == int(o["counted_attempts"]) for k, o in audited.items()
    )
    return {
        "audited_orders": len(audited),
        "orders_with_duplicates": len(want),
        "flagged": len(got),
        "precision": ratio(len(want & got), len(got)),
        "recall": ratio(len(want & got), len(want)),
        "counted_attempts_agree": counted,
        "missing_orders": len(set(audited) - set(orders)),
    }


# ----------------------------------------------------------------------------------- margins


def pair_features(a: Recording, b: Recording) -> dict[str, float] | None:
    """The distances the dbt model compares, rounded like it does; None when the tone kinds differ."""
    if a.tone_kinds != b.tone_kinds:
        return None
    shift = a.onset_s - b.onset_s
    if a.tone_kinds:
        edges = np.concatenate(
            [np.abs(a.tone_starts - b.tone_starts - shift), np.abs(a.tone_ends - b.tone_ends - shift)]
        )
        tone_error = float(edges.max())
        frequency_error = float(np.abs(a.tone_frequencies - b.tone_frequencies).max())
    else:
        tone_error = frequency_error = 0.0
    return {
        "onset_gap_s": round(abs(shift), 4),
        "duration_gap_s": round(abs(a.duration_s - b.duration_s), 4),
        "speech_gap_s": round(abs(a.speech_s - b.speech_s), 4),
        "tone_error_s": round(tone_error, 4),
        "frequency_error_hz": round(frequency_error, 4),
        "identifying_tones": sum(k in ("ring", "voicemail_beep") for k in a.tone_kinds),
        "similarity": round(float(a.embedding @ b.embedding), 4),
    }


CHECKS = (
    ("onset_gap_s", "duplicate_onset_tolerance_s"),
    ("duration_gap_s", "duplicate_duration_tolerance_s"),
    ("speech_gap_s", "duplicate_speech_tolerance_s"),
    ("tone_error_s", "duplicate_tone_tolerance_s"),
    ("frequency_error_hz", "duplicate_frequency_tolerance_hz"),
)


def text_threshold(f: dict, settings: dict[str, float]) -> float:
    if f["identifying_tones"] > 0:
        return settings["duplicate_timeline_similarity"]
    return settings["duplicate_similarity"]


def describe(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    v = np.asarray(values, dtype=float)
    return {
        "n": int(v.size),
        "min": round(float(v.min()), 4),
        "p05": round(float(np.percentile(v, 5)), 4),
        "median": round(float(np.median(v)), 4),
        "p95": round(float(np.percentile(v, 95)), 4),
        "max": round(float(v.max()), 4),
    }


def fingerprint_distance(f: dict, settings: dict[str, float]) -> float:
    """The largest of the audio gaps in units of its tolerance: <= 1 passes every audio check."""
    return round(max(f[key] / settings[var] for key, var in CHECKS), 3)


def margins(recordings: dict[str, Recording], truth: dict[str, dict[str, str]], settings: dict) -> dict:
    """Distances of the true re-encoded pairs vs the closest non-duplicate pairs, check by check."""

    def conversation(sha: str) -> str:
        call = recordings[sha].calls[0]
        return truth[call]["duplicate_of"] or call

    shas = sorted(recordings)
    group = [conversation(sha) for sha in shas]
    vectors = np.vstack([recordings[sha].embedding for sha in shas])
    similarity = np.round(vectors @ vectors.T, 4)
    duplicates, others, other_kinds = [], [], 0
    for i, j in combinations(range(len(shas)), 2):
        same = group[i] == group[j]
        f = pair_features(recordings[shas[i]], recordings[shas[j]])
        if f is None:
            other_kinds += same  # a re-encoded copy whose tones differ: the model cannot find it
            continue
        f["fingerprint_distance"] = fingerprint_distance(f, settings)
        f["pair"] = (recordings[shas[i]].calls[0], recordings[shas[j]].calls[0])
        (duplicates if same else others).append(f)
    # the non-duplicates that pass the audio checks one after the other (the model's funnel)
    funnel, passing = [{"check": "same tone kinds", "non_duplicate_pairs": len(others)}], others
    for key, var in CHECKS:
        passing = [f for f in passing if f[key] <= settings[var]]
        funnel.append({"check": f"{key} <= {settings[var]}", "non_duplicate_pairs": len(passing)})
    confirmed = [f for f in passing if f["similarity"] >= text_threshold(f, settings)]
    funnel.append({"check": "text similarity >= its threshold", "non_duplicate_pairs": len(confirmed)})
    # for each audio check, the closest non-duplicates among those that pass every other audio check
    closest = {}
    for key, var in CHECKS:
        rest = [f for f in others if all(f[k] <= settings[v] for k, v in CHECKS if k != key)]
        closest[key] = {
            "tolerance": settings[var],
            "duplicates_max": max((f[key] for f in duplicates), default=None),
            "non_duplicates_passing_the_other_checks": len(rest),
            "non_duplicates_smallest": sorted(f[key] for f in rest)[:5],
        }
    nearest = sorted(others, key=lambda f: f["fingerprint_distance"])[:10]
    identifying = sorted(
        (f for f in others if f["identifying_tones"] > 0), key=lambda f: f["fingerprint_distance"]
    )[:10]
    for f in nearest + identifying:
        f["text_threshold"] = text_threshold(f, settings)
    shown = (
        "pair",
        "fingerprint_distance",
        "similarity",
        "text_threshold",
        "identifying_tones",
        *(k for k, _ in CHECKS),
    )
    different = np.array([[group[i] != group[j] for j in range(len(shas))] for i in range(len(shas))])
    upper = np.triu(np.ones_like(different), k=1) & different
    text = np.sort(similarity[upper])[::-1]
    return {
        "recordings_with_transcript": len(shas),
        "pairs_of_recordings": len(shas) * (len(shas) - 1) // 2,
        "pairs_with_the_same_tone_kinds": len(duplicates) + len(others),
        "reencoded_pairs": len(duplicates) + other_kinds,
        "reencoded_pairs_with_other_tone_kinds": other_kinds,
        "duplicates": {key: describe([f[key] for f in duplicates]) for key, _ in CHECKS}
        | {
            "fingerprint_distance": describe([f["fingerprint_distance"] for f in duplicates]),
            "similarity": describe([f["similarity"] for f in duplicates]),
        },
        "non_duplicates_funnel": funnel,
        "non_duplicates_passing_audio_similarity": describe([f["similarity"] for f in passing]),
        "closest_non_duplicates_by_audio": closest,
        "nearest_non_duplicates_by_fingerprint": [{k: f[k] for k in shown} for f in nearest],
        "nearest_non_duplicates_with_ring_or_beep": [{k: f[k] for k in shown} for f in identifying],
        "closest_non_duplicates_by_text": {
            "top_similarities": [round(float(x), 4) for x in text[:10]],
            "pairs_at_or_above_duplicate_similarity": int((text >= settings["duplicate_similarity"]).sum()),
            "pairs_at_or_above_timeline_similarity": int(
                (text >= settings["duplicate_timeline_similarity"]).sum()
            ),
        },
    }


# ----------------------------------------------------------------------------------- report


def print_table(run: dict) -> None:
    c = run["calls"]
    print(
        f"\nDuplicate detection, synthetic set seed {run['seed']} ({run['role']}): {run['orders']} orders, "
        f"{run['synth']['calls']} calls, {c['overall']['planted']} planted duplicates"
    )
    print(f"{'planted kind':>14} {'planted':>8} {'found':>6} {'recall':>7}")
    for kind, r in c["recall_by_planted_kind"].items():
        print(f"{kind:>14} {r['planted']:>8} {r['found']:>6} {r['recall']!s:>7}")
    print(f"{'detected kind':>14} {'detected':>8} {'right':>6} {'precision':>9}")
    for kind, p in c["precision_by_detected_kind"].items():
        print(f"{kind:>14} {p['detected']:>8} {p['correct']:>6} {p['precision']!s:>9}")
    o = c["overall"]
    print(
        f"{'overall':>14} precision {o['precision']}  recall {o['recall']}  ({o['correct']}/{o['detected']} "
        f"detected right, {o['correct']}/{o['planted']} planted found)"
    )
    orders = run["orders_check"]
    print(
        f"orders (marts.order_compliance): duplicate rule precision {orders['precision']} recall "
        f"{orders['recall']}; counted attempts agree {orders['counted_attempts_agree']}/"
        f"{orders['audited_orders']}"
    )
    m = run["margins"]
    print(
        f"\nMargins ({m['reencoded_pairs']} re-encoded pairs among {m['pairs_of_recordings']} pairs of "
        f"recordings with a transcript, {m['pairs_with_the_same_tone_kinds']} with the same tone kinds)"
    )
    for key, info in m["closest_non_duplicates_by_audio"].items():
        print(
            f"  {key:>18}: tolerance {info['tolerance']:<6} duplicates max {info['duplicates_max']!s:<7} "
            f"closest non-duplicates {info['non_duplicates_smallest']}"
        )
    fd = m["duplicates"]["fingerprint_distance"]
    print(
        "  fingerprint distance (the largest gap in units of its tolerance, <= 1 passes the audio checks): "
        f"re-encoded pairs max {fd.get('max')}"
    )
    for title, key in (
        ("any", "nearest_non_duplicates_by_fingerprint"),
        ("with ring/beep", "nearest_non_duplicates_with_ring_or_beep"),
    ):
        near = [(f["fingerprint_distance"], f["similarity"], f["text_threshold"]) for f in m[key][:5]]
        print(f"    nearest non-duplicates, {title} (distance, cosine, text threshold): {near}")
    sims = m["duplicates"]["similarity"]
    text = m["closest_non_duplicates_by_text"]
    print(
        f"  similarity: re-encoded pairs min {sims.get('min')} median {sims.get('median')}; "
        f"non-duplicates top {text['top_similarities'][:5]} "
        f"({text['pairs_at_or_above_duplicate_similarity']} pairs >= duplicate_similarity)"
    )
    print(
        "  non-duplicate pairs left after each audio check: "
        + " → ".join(str(f["non_duplicate_pairs"]) for f in m["non_duplicates_funnel"])
    )
    t = run["seconds"]
    print(f"\nruntime: synth {t['synth']} s, daily flow {t['daily_flow']} s, total {t['total']} s")


def write(results: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(args: argparse.Namespace) -> int:
    from flows.config import get_settings
    from warehouse.db import database_url, stop_embedded

    settings = get_settings()
    state = settings.state_dir
    if state.exists() and not args.reuse:
        stop_embedded(settings.pgdata)
        shutil.rmtree(state)
    state.mkdir(parents=True, exist_ok=True)
    data = state / "data"
    day = date.fromisoformat(args.date)
    if not Path(settings.asr_model).exists():
        print(f"no ASR model at {settings.asr_model}: re-encoded copies cannot be found", file=sys.stderr)
        return 2
    started = time.perf_counter()
    if (data / "calls.csv").exists() and args.reuse:
        synth_summary, synth_s = json.loads((state / "synth.json").read_text()), 0.0
    else:
        synth_summary, synth_s = generate(data, args.orders, args.seed, day, args.duplicates)
        (state / "synth.json").write_text(json.dumps(synth_summary))
    flow_summary, flow_s = run_flow(data, day)
    url = database_url(settings)
    wh = warehouse(url)
    truth = {r["call_id"]: r for r in read_csv(data / "truth" / "calls.csv")}
    tolerances = model_settings()
    run = {
        "seed": args.seed,
        "role": "tuning" if args.seed in TUNING_SEEDS else "report" if args.seed == REPORT_SEED else "extra",
        "measured_at": datetime.now(UTC).isoformat(),
        "orders": args.orders,
        "duplicates_requested": args.duplicates,
        "day": args.date,
        "planted": dict(Counter(t["duplicate_kind"] for t in truth.values() if t["duplicate_of"])),
        "synth": synth_summary,
        "flow": flow_summary,
        "transcript_rows": wh["transcripts"],
        "settings": tolerances,
        "calls": call_scores(truth, wh["found"]),
        "marts_call_attempts_agree": sum(truth[c]["duplicate_of"] == o for c, o in wh["flagged"].items()),
        "marts_call_attempts_flagged": len(wh["flagged"]),
        "orders_check": order_scores(read_csv(data / "truth" / "orders.csv"), wh["orders"]),
        "margins": margins(wh["recordings"], truth, tolerances),
        "seconds": {
            "synth": round(synth_s, 1),
            "daily_flow": round(flow_s, 1),
            "total": round(time.perf_counter() - started, 1),
        },
    }
    if not args.keep_server:
        stop_embedded(settings.pgdata)
    results = json.loads(args.out.read_text(encoding="utf-8")) if args.out.exists() else {}
    previous = results.get("runs", {}).get(str(args.seed))
    if synth_s == 0.0 and previous:  # a re-evaluation of a kept warehouse: the fresh run's times stand
        run["seconds"] = {
            **{k: v for k, v in previous["seconds"].items() if k in ("synth", "daily_flow", "total")},
            "measured_at": previous["seconds"].get("measured_at", previous["measured_at"]),
            "reevaluation_s": run["seconds"]["total"],
        }
    results.pop("tuning_seed", None)
    results.update(
        {
            "benchmark": "duplicate detection on the synthetic set, through the daily flow (issue 6)",
            "tuning_seeds": list(TUNING_SEEDS),
            "report_seed": REPORT_SEED,
            "history": HISTORY,
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        }
    )
    results.setdefault("runs", {})[str(args.seed)] = run
    write(results, args.out)
    print_table(run)
    return 0


if __name__ == "__main__":
    sys.exit(main(ARGS))
