"""Reproducible training recipe for the bundled call classifier (the ``local/`` LLM route's model).

    python -m inference.classifier_train --out models/classifier [--size 20000] [--seed 20261120]

Generates the training corpus (:mod:`inference.classifier_corpus`), holds part of it out, fits
(:func:`inference.call_classifier.fit`), then evaluates on three kinds of transcripts: the held-out share
of the training phrasings, the independently phrased second set (``benchmarks/classifier_eval_set.py``)
and calls phrased by the demo generator (``synth/phrases.py``, composed the way ``synth/render.py`` does),
each also lower-cased and without punctuation as speech recognition writes it. Writes
``call-classifier.json`` and ``metrics.json`` into ``--out`` and prints a table.
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

from inference.asr_model import normalize_text
from inference.call_classifier import HEADS, CallClassifier, FitConfig, LabelledCall, fit
from inference.classifier_corpus import SEED, generate_corpus, recognise

MODEL_FILE = "call-classifier.json"
METRICS_FILE = "metrics.json"
DEFAULT_SIZE = 20000
HELDOUT_SHARE = 0.15
DEMO_SIZE = 800
NOISE_LEVEL = 0.1


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
) -> TrainResult:
    """Generate, fit, evaluate and write the model and its metrics into ``out``."""
    out = Path(out)
    config = config or FitConfig(seed=seed)
    t0 = time.perf_counter()
    corpus = generate_corpus(size, seed)
    train_calls, heldout = split(corpus, HELDOUT_SHARE, seed)
    log(f"corpus {len(corpus)} calls ({len(train_calls)} train, {len(heldout)} held out)")
    model = fit(train_calls, config)
    fit_s = time.perf_counter() - t0
    log(f"fitted in {fit_s:.1f} s, {model.meta['features']} features")
    model = replace(model, meta={**model.meta, "seed": seed, "corpus_size": size})
    model_path = model.save(out / MODEL_FILE)
    shipped = CallClassifier.load(model_path)
    sets = {name: evaluate(shipped, calls) for name, calls in evaluation_sets(heldout, demo_size).items()}
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
    }
    metrics_path = out / METRICS_FILE
    metrics_path.write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log(table(sets))
    log(f"model {model_path} ({metrics['model_bytes'] / 1e6:.2f} MB), metrics {metrics_path}")
    return TrainResult(model_path, metrics_path, metrics)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m inference.classifier_train", description=__doc__.split("\n")[0]
    )
    p.add_argument("--out", type=Path, default=Path("models/classifier"))
    p.add_argument("--size", type=int, default=DEFAULT_SIZE, help="generated training calls")
    p.add_argument("--seed", type=int, default=SEED)
    a = p.parse_args(argv)
    train(a.out, a.size, a.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
