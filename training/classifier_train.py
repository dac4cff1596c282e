"""Reproducible training recipe for the bundled call classifier (the ``local/`` LLM route's model).

    python -m training.classifier_train --out models/classifier [--size 20000] [--seed 20261120] \
        [--heard 900] [--heard-model models/asr/callaudit-fr-ctc-small.nemo]

Generates the training corpus (:mod:`training.classifier_corpus`), holds part of it out, fits
(:func:`inference.call_classifier.fit`), then evaluates on three kinds of transcripts: the held-out share
of the training phrasings, the independently phrased second set (``benchmarks/classifier_eval_set.py``)
and calls phrased by the demo generator (``synth/phrases.py``, composed the way ``synth/render.py`` does),
each also lower-cased and without punctuation as speech recognition writes it. Writes
``call-classifier.json`` and ``metrics.json`` into ``--out`` and prints a table.

**Trust threshold.** The verdict (rule 4) takes a call type as evidence only when the classifier's probability
for it reaches ``classification_min_confidence`` (settings, dbt var); below it the order goes to a person.
The threshold is calibrated here, on the held-out split of this corpus only (never on the demo generator's
calls, the second set or any report's seeds): the held-out calls are passed again through the corpus's
recognition-error model at word error levels :data:`CALIBRATION_NOISE` (up to 60 %, four times the heaviest
level the classifier was trained on, towards the error rates real speech recognition reaches on unfamiliar
calls) — and, with ``--heard N``, on the held-out share of the spoken and recognised calls
(:mod:`training.classifier_heard`) — and the threshold is the lowest value of :data:`THRESHOLD_GRID` at
which, on every set, the call types at or above it are right at least :data:`TRUST_PRECISION` of the time
(at most one wrong in a thousand: a wrong call type above the threshold can accuse a technician). It is
written to ``metrics.json`` (``trust``); ``python -m training.classifier_train --calibrate`` recomputes it
for the model already in ``--out`` without refitting. Measured for the bundled model: see ``metrics.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from inference.asr_model import BUNDLED_LM, BUNDLED_MODEL, normalize_text
from inference.call_classifier import HEADS, CallClassifier, FitConfig, LabelledCall, fit
from inference.hashing import file_sha256
from training.classifier_corpus import SEED, generate_corpus, recognise

MODEL_FILE = "call-classifier.json"
METRICS_FILE = "metrics.json"
DEFAULT_SIZE = 20000
HELDOUT_SHARE = 0.15
DEMO_SIZE = 800
NOISE_LEVEL = 0.1
# Trust calibration (see the module docstring): recognition-error levels the held-out calls are rendered at,
# the precision a trusted call type must reach at each of them, and the candidate thresholds.
CALIBRATION_NOISE: tuple[float, ...] = (0.0, 0.15, 0.3, 0.45, 0.6)
TRUST_PRECISION = 0.999
# Noisy-channel calls (:mod:`training.classifier_heard`): corpus calls spoken and transcribed by the bundled
# speech model, from a seed of their own; each training one counts this many times in the fit.
HEARD_SEED = 20261205
HEARD_WEIGHT = 3
DEFAULT_ASR_MODEL = BUNDLED_MODEL
DEFAULT_ASR_LM = BUNDLED_LM  # the pipeline decodes the bundled model with it (flows.transcribe.asr_lm)
HEARD_CACHE = Path.home() / ".cache" / "callaudit-classifier-heard"
THRESHOLD_GRID: tuple[float, ...] = tuple(round(0.30 + 0.01 * i, 2) for i in range(70))


# ----------------------------------------------------------------------------------- evaluation sets


def demo_calls(n: int = DEMO_SIZE, seed: int = SEED) -> list[LabelledCall]:
    """Written transcripts phrased by the demo generator, labelled like its ground truth.

    Calls are composed from ``synth.phrases`` in the order ``synth.render`` speaks them (hello, intro,
    answer, closing; greeting then maybe the technician's message; operator; nothing for no answer). The
    demo knows no customer sentiment (left empty, not scored); an unanswered call's behaviour is 1 (its
    only technician phrasing, the voicemail message, is courteous)."""
    from synth import phrases
    from synth.scenarios import KINDS, UNANSWERED, UNANSWERED_P

    rng = random.Random(seed)
    out: list[LabelledCall] = []
    for _ in range(n):
        order_type, offer = rng.choice(KINDS)
        names = {
            "agent": rng.choice(phrases.AGENT_NAMES),
            "company": phrases.COMPANY,
            "customer": rng.choice(phrases.CUSTOMER_NAMES),
            "subject": phrases.subject(order_type, offer),
            "day": rng.choice(phrases.DAYS),
        }
        outcome = "answered" if rng.random() < 0.6 else rng.choices(UNANSWERED, weights=UNANSWERED_P)[0]
        if outcome == "answered":
            intent, behaviour = rng.randint(1, 4), int(rng.random() >= 0.25)
            intro = phrases.INTRO_COURTEOUS if behaviour else phrases.INTRO_RUDE
            close = phrases.CLOSE_COURTEOUS if behaviour else phrases.CLOSE_RUDE
            parts = [
                rng.choice(phrases.HELLO),
                rng.choice(intro),
                rng.choice(phrases.ANSWER[intent]),
                rng.choice(close),
            ]
        else:
            intent, behaviour = 0, 1
            parts = []
            if outcome == "voicemail":
                parts.append(rng.choice(phrases.GREETING))
                if rng.random() < 0.6:
                    parts.append(rng.choice(phrases.VOICEMAIL_MESSAGE))
            elif outcome == "unreachable":
                parts.append(rng.choice(phrases.OPERATOR))
        out.append(LabelledCall(" ".join(p.format(**names) for p in parts), intent, behaviour, ""))
    return out


def second_set(forms: tuple[str, ...] = ("written", "recognised")) -> list[LabelledCall]:
    """The independently phrased evaluation set in the given forms."""
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    from benchmarks.classifier_eval_set import eval_set

    return eval_set(forms)


def asr_like(calls: Sequence[LabelledCall]) -> list[LabelledCall]:
    """The same calls lower-cased, without punctuation, numbers in words (as speech recognition writes)."""
    return [replace(c, text=normalize_text(c.text)) for c in calls]


def asr_noisy(
    calls: Sequence[LabelledCall], level: float = NOISE_LEVEL, seed: int = SEED
) -> list[LabelledCall]:
    """The same calls through the corpus's simulated recognition errors (dropped, merged, misspelt words)."""
    rng = random.Random(seed)
    return [replace(c, text=recognise(c.text, rng, level)) for c in calls]


# ----------------------------------------------------------------------------------- metrics


def _macro_f1(truth: Sequence[Any], pred: Sequence[Any]) -> float:
    scores = []
    for label in sorted(set(truth), key=str):
        tp = sum(t == label and p == label for t, p in zip(truth, pred, strict=True))
        fp = sum(t != label and p == label for t, p in zip(truth, pred, strict=True))
        fn = sum(t == label and p != label for t, p in zip(truth, pred, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


def evaluate(model: CallClassifier, calls: Sequence[LabelledCall]) -> dict[str, Any]:
    """Accuracy and macro-F1 per head (a head whose labels are empty is not scored)."""
    preds = [model.predict(c.text) for c in calls]
    result: dict[str, Any] = {"n": len(calls)}
    for head in HEADS:
        pairs = [
            (c.label(head), getattr(p, head))
            for c, p in zip(calls, preds, strict=True)
            if c.label(head) != ""
        ]
        if not pairs:
            continue
        truth, pred = [t for t, _ in pairs], [p for _, p in pairs]
        accuracy = sum(t == p for t, p in pairs) / len(pairs)
        result[head] = {"accuracy": round(accuracy, 4), "macro_f1": round(_macro_f1(truth, pred), 4)}
    return result


def evaluation_sets(
    heldout: Sequence[LabelledCall], demo_size: int = DEMO_SIZE
) -> dict[str, list[LabelledCall]]:
    """Every set the recipe reports, by name."""
    second = second_set()
    demo = demo_calls(demo_size)
    return {
        "heldout_training_phrasing": list(heldout),
        "heldout_asr_like": asr_like(heldout),
        "second_set": second,
        "second_set_written": second_set(("written",)),
        "second_set_recognised": second_set(("recognised",)),
        "second_set_asr_like": asr_like(second),
        "second_set_asr_noisy": asr_noisy(second_set(("written",))),
        "demo_generator": demo,
        "demo_generator_asr_like": asr_like(demo),
        "demo_generator_asr_noisy": asr_noisy(demo),
    }


def table(metrics: dict[str, dict[str, Any]]) -> str:
    """The metrics as a fixed-width text table."""
    head = f"{'set':28} {'n':>5}  " + "  ".join(f"{h + ' acc/F1':>20}" for h in HEADS)
    lines = [head, "-" * len(head)]
    for name, m in metrics.items():
        cells = []
        for h in HEADS:
            cells.append(f"{m[h]['accuracy']:>9.3f} / {m[h]['macro_f1']:<8.3f}" if h in m else f"{'-':>20}")
        lines.append(f"{name:28} {m['n']:>5}  " + "  ".join(cells))
    return "\n".join(lines)


# ----------------------------------------------------------------------------------- trust threshold


def calibration_sets(
    heldout: Sequence[LabelledCall], seed: int = SEED, levels: Sequence[float] = CALIBRATION_NOISE
) -> dict[float, list[LabelledCall]]:
    """The held-out calls at each recognition-error level (0: as the corpus rendered them)."""
    sets: dict[float, list[LabelledCall]] = {}
    for level in levels:
        rng = random.Random(seed + round(level * 1000))
        sets[level] = [c if level == 0 else replace(c, text=recognise(c.text, rng, level)) for c in heldout]
    return sets


def _trusted_share(scored: Sequence[tuple[float, bool]], threshold: float) -> tuple[float, float]:
    """(share of calls at or above the threshold, share of those whose call type is right)."""
    kept = [ok for p, ok in scored if p >= threshold]
    coverage = len(kept) / len(scored) if scored else 0.0
    return coverage, (sum(kept) / len(kept) if kept else 1.0)


def calibrate_trust_threshold(
    model: CallClassifier,
    heldout: Sequence[LabelledCall],
    seed: int = SEED,
    levels: Sequence[float] = CALIBRATION_NOISE,
    precision: float = TRUST_PRECISION,
    heard: Sequence[LabelledCall] = (),
) -> dict[str, Any]:
    """The lowest threshold of :data:`THRESHOLD_GRID` at which the call types at or above it are right at
    least ``precision`` of the time at every noise level and on the held-out ``heard`` calls (spoken and
    recognised, when given), the grid's last value if none reaches it, with the coverage and precision it
    gives per set."""
    scored: dict[str, list[tuple[float, bool]]] = {}
    sets = {f"{level:.2f}": calls for level, calls in calibration_sets(heldout, seed, levels).items()}
    if heard:
        sets["heard"] = list(heard)
    for level, calls in sets.items():
        scored[level] = []
        for call in calls:
            pred = model.predict_detailed(call.text)
            scored[level].append(
                (pred.confidence["call_type"], pred.classification.call_type == call.call_type)
            )
    chosen = next(
        (t for t in THRESHOLD_GRID if all(_trusted_share(s, t)[1] >= precision for s in scored.values())),
        THRESHOLD_GRID[-1],
    )
    # the lowest precision over the levels at each candidate: the curve the choice was read from
    curve = {
        f"{t:.2f}": round(min(_trusted_share(s, t)[1] for s in scored.values()), 4) for t in THRESHOLD_GRID
    }
    per_level = {}
    for level, s in scored.items():
        coverage, prec = _trusted_share(s, chosen)
        per_level[level] = {
            "n": len(s),
            "accuracy": round(sum(ok for _, ok in s) / len(s), 4),
            "trusted_share": round(coverage, 4),
            "trusted_precision": round(prec, 4),
        }
    return {
        "threshold": chosen,
        "precision_target": precision,
        "noise_levels": list(levels),
        "heldout_size": len(heldout),
        "heard_heldout_size": len(heard),
        "levels": per_level,
        "min_precision_by_threshold": curve,
    }


# ----------------------------------------------------------------------------------- recipe


@dataclass(frozen=True)
class TrainResult:
    model_path: Path
    metrics_path: Path
    metrics: dict[str, Any]


def split(
    calls: Sequence[LabelledCall], share: float, seed: int
) -> tuple[list[LabelledCall], list[LabelledCall]]:
    """(train, held-out), shuffled with the seed."""
    order = list(range(len(calls)))
    random.Random(seed + 1).shuffle(order)
    cut = int(round(len(calls) * (1 - share)))
    return [calls[i] for i in order[:cut]], [calls[i] for i in order[cut:]]


def train(
    out: str | Path,
    size: int = DEFAULT_SIZE,
    seed: int = SEED,
    config: FitConfig | None = None,
    demo_size: int = DEMO_SIZE,
    log: Callable[[str], None] = print,
    heard: int = 0,
    heard_model: str | Path = DEFAULT_ASR_MODEL,
    heard_cache: Path = HEARD_CACHE,
    heard_lm: str | Path | None = DEFAULT_ASR_LM,
) -> TrainResult:
    """Generate, fit, evaluate and write the model and its metrics into ``out``. With ``heard``, that many
    more calls are spoken and transcribed by ``heard_model`` (:mod:`training.classifier_heard`); their
    training share is fitted :data:`HEARD_WEIGHT` times, their held-out share is reported and calibrated."""
    out = Path(out)
    config = config or FitConfig(seed=seed)
    t0 = time.perf_counter()
    corpus = generate_corpus(size, seed)
    train_calls, heldout = split(corpus, HELDOUT_SHARE, seed)
    log(f"corpus {len(corpus)} calls ({len(train_calls)} train, {len(heldout)} held out)")
    heard_train, heard_heldout = _heard_split(heard, heard_model, seed, log, heard_cache, heard_lm)
    model = fit(train_calls + heard_train * HEARD_WEIGHT, config)
    fit_s = time.perf_counter() - t0
    log(f"fitted in {fit_s:.1f} s, {model.meta['features']} features")
    model = replace(model, meta={**model.meta, "seed": seed, "corpus_size": size})
    model_path = model.save(out / MODEL_FILE)
    shipped = CallClassifier.load(model_path)
    named = evaluation_sets(heldout, demo_size) | ({"heldout_heard": heard_heldout} if heard_heldout else {})
    sets = {name: evaluate(shipped, calls) for name, calls in named.items()}
    trust = calibrate_trust_threshold(shipped, heldout, seed, heard=heard_heldout)
    log(f"trust threshold {trust['threshold']} (call types at or above it right >= {TRUST_PRECISION})")
    metrics = {
        "seed": seed,
        "corpus_size": size,
        "train_size": len(train_calls),
        "heldout_size": len(heldout),
        "fit_config": asdict(config),
        "features": model.meta["features"],
        "model_bytes": model_path.stat().st_size,
        "train_seconds": round(fit_s, 1),
        "sets": sets,
        "trust": trust,
    }
    if heard:
        metrics["heard"] = {
            "calls": heard,
            "seed": HEARD_SEED,
            "weight": HEARD_WEIGHT,
            "asr_model": Path(heard_model).name,
            "asr_model_sha256": file_sha256(str(heard_model)),
            **(
                {"asr_lm": Path(heard_lm).name, "asr_lm_sha256": file_sha256(str(heard_lm))}
                if heard_lm
                else {}
            ),
        }
    metrics_path = out / METRICS_FILE
    metrics_path.write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log(table(sets))
    log(f"model {model_path} ({metrics['model_bytes'] / 1e6:.2f} MB), metrics {metrics_path}")
    return TrainResult(model_path, metrics_path, metrics)


def _heard_split(
    n: int,
    model: str | Path,
    seed: int,
    log: Callable[[str], None],
    cache: Path = HEARD_CACHE,
    lm: str | Path | None = None,
) -> tuple[list[LabelledCall], list[LabelledCall]]:
    """(train, held-out) of ``n`` spoken-and-recognised calls; ([], []) when ``n`` is 0."""
    if not n:
        return [], []
    from training.classifier_heard import heard_calls

    calls = heard_calls(n, HEARD_SEED, model, cache, log, lm=lm)
    log(
        f"{len(calls)} calls spoken and recognised by {Path(model).name}"
        + (f" with {Path(lm).name}" if lm else "")
    )
    return split(calls, HELDOUT_SHARE, seed)


def calibrate(out: str | Path, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Recompute the trust threshold of the model already in ``out`` on its own held-out split (the corpus
    regenerated from the seed and size in its ``metrics.json``) and write it there; no refit."""
    out = Path(out)
    metrics_path = out / METRICS_FILE
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    seed, size = int(metrics["seed"]), int(metrics["corpus_size"])
    _, heldout = split(generate_corpus(size, seed), HELDOUT_SHARE, seed)
    heard = metrics.get("heard", {}).get("calls", 0)
    lm = DEFAULT_ASR_LM if metrics.get("heard", {}).get("asr_lm") else None
    _, heard_heldout = _heard_split(heard, DEFAULT_ASR_MODEL, seed, log, lm=lm)
    trust = calibrate_trust_threshold(
        CallClassifier.load(out / MODEL_FILE), heldout, seed, heard=heard_heldout
    )
    metrics["trust"] = trust
    metrics_path.write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log(json.dumps(trust, indent=2))
    return trust


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m training.classifier_train", description=__doc__.split("\n")[0]
    )
    p.add_argument("--out", type=Path, default=Path("models/classifier"))
    p.add_argument("--size", type=int, default=DEFAULT_SIZE, help="generated training calls")
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--heard", type=int, default=0, help="more calls spoken and transcribed (noisy channel)")
    p.add_argument(
        "--heard-model", type=Path, default=DEFAULT_ASR_MODEL, help="the speech model that hears them"
    )
    p.add_argument(
        "--heard-lm",
        default=str(DEFAULT_ASR_LM),
        help="the LM the speech model decodes with, as in the pipeline (none: greedy decoding)",
    )
    p.add_argument(
        "--calibrate", action="store_true", help="only recompute the trust threshold of the model in --out"
    )
    a = p.parse_args(argv)
    if a.calibrate:
        calibrate(a.out)
    else:
        lm = None if a.heard_lm.lower() == "none" else a.heard_lm
        train(a.out, a.size, a.seed, heard=a.heard, heard_model=a.heard_model, heard_lm=lm)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
