"""A character n-gram language model of French for CTC beam search (training recipe, not runtime).

The bundled speech model decodes greedily: each 40 ms frame's best character, whatever French allows. NeMo
3.0's ``beam_batch`` CTC strategy scores its beams with an n-gram LM (``NGramGPULanguageModel``, CPU or
GPU) read from an ARPA file whose words are the model's tokens written as ``chr(token_id + 100)``. This
module writes that file.

Text: the broad French of :mod:`training.asr_corpus_broad` without its random word strings (they teach
spelling, not French) — every Littré clause, generated spoken material (numbers, dates, times, names,
spelled ids), the telecom phrasing written for the speech recipe and its call-centre templates — in lines
of one to three sentences (the pipeline decodes 25 s chunks, not single sentences). Like the speech model's
training text it never reads ``synth/phrases.py`` or an evaluation phrase bank, and every sentence of the
recipe's evaluation sets is left out, so figures measured with the LM stay out-of-sample.

Estimator: interpolated Kneser-Ney with one discount per order (``D = n1 / (n1 + 2 n2)``), written the way
KenLM writes interpolated models (each n-gram's interpolated probability, each context's interpolation
weight as its backoff). Written here because KenLM's estimator (``lmplz``) is in neither PyPI nor Debian
(only its query module is on PyPI) and NeMo ships none; over ~45 symbols a dictionary of n-gram strings is
small. N-grams of order 3 and up seen fewer than ``min_count`` times are left out (their mass goes to the
shorter contexts), which keeps the file within the bundle's size.

    .venv/bin/python -m training.asr_lm --out models/asr/callaudit-fr-char-lm.arpa [--order 6]

writes the ARPA file and, beside it, its figures (``callaudit-fr-char-lm.json``: n-grams per order, size).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from inference.asr_model import LABELS, normalize_text

TOKEN_OFFSET = 100  # nemo.collections.asr.parts.submodules.ngram_lm.constants.DEFAULT_TOKEN_OFFSET
BOS, EOS = "\x01", "\x02"  # one character each inside the counts; <s> and </s> in the file
_CODE = {label: chr(i + TOKEN_OFFSET) for i, label in enumerate(LABELS)}


def encode(text: str) -> str:
    """A transcript-normalised text as the LM's token characters (one per model token)."""
    return "".join(_CODE[c] for c in normalize_text(text) if c in _CODE)


def lm_lines(count: int, seed: int) -> list[str]:
    """``count`` lines of one to three sentences, the evaluation sets of the speech recipe left out."""
    from inference.asr_model import BUNDLED_MODEL
    from training import asr_corpus as base
    from training import asr_corpus_broad as broad
    from training.asr_train import EVAL_SIZE, training_text

    # the evaluation sets of the bundled model's recipe: its seed and training count (as benchmarks/asr.py)
    params = json.loads((BUNDLED_MODEL.parent / "metrics.json").read_text(encoding="utf-8"))["params"]
    recipe_seed, utterances = params["seed"], params["utterances"]
    evaluation = [
        *base.heldout_sentences(3 * EVAL_SIZE + 24, recipe_seed, utterances),
        *base.unseen_word_sentences(EVAL_SIZE, recipe_seed),
        *training_text(utterances, recipe_seed)[1],  # the broad held-out clauses
    ]
    excluded = {normalize_text(t) for t in evaluation}
    clauses = [c for c in broad.littre_clauses() if normalize_text(c) not in excluded]
    rng = random.Random(f"asr-lm-{seed}")
    makers = (
        (0.55, lambda g: g.choice(clauses)),
        (0.15, broad.spoken_material),
        (0.15, broad.telecom_sentence),
        (0.15, lambda g: base._fill(g.choice(base.TEMPLATES), g, base.VALUES, set())),
    )

    def sentence() -> str:
        while True:
            r, acc = rng.random(), 0.0
            for share, make in makers:
                acc += share
                if r < acc:
                    text = make(rng)
                    break
            else:
                text = makers[-1][1](rng)
            if normalize_text(text) not in excluded:
                return text

    return [" ".join(sentence() for _ in range(rng.choice((1, 1, 2, 3)))) for _ in range(count)]


def count_ngrams(lines: Iterable[str], order: int) -> Counter[str]:
    """Raw counts of every n-gram (n = 1..order) of the encoded lines, as strings of token characters."""
    counts: Counter[str] = Counter()
    for line in lines:
        s = BOS + encode(line) + EOS
        for n in range(1, order + 1):
            for i in range(len(s) - n + 1):
                counts[s[i : i + n]] += 1
    del counts[BOS]
    return counts


def kneser_ney(
    raw: Counter[str], order: int, min_count: int = 1
) -> tuple[list[dict[str, float]], dict[str, float]]:
    """(log10 probability of each n-gram per order, log10 backoff of each context) by interpolated KN.

    N-grams of order 3 and up seen fewer than ``min_count`` times are left out. Lower orders count distinct
    left neighbours among the n-grams kept one order up (continuation counts), except after ``<s>``, which
    has none (raw counts). A kept n-gram's prefix is always kept (an ARPA context must exist), with a count
    of 0 when it has no kept left neighbour: its probability is then its context's backed-off one."""
    grams: list[dict[str, int]] = [{} for _ in range(order + 1)]
    for gram, c in raw.items():
        if len(gram) < 3 or c >= min_count:
            grams[len(gram)][gram] = c
    for n in range(order - 1, 0, -1):
        adjusted: Counter[str] = Counter(gram[1:] for gram in grams[n + 1])
        prefixes = {gram[:-1] for gram in grams[n + 1]}
        grams[n] = {
            g: (c if g[0] == BOS else adjusted[g])
            for g, c in grams[n].items()
            if g[0] == BOS or adjusted[g] or g in prefixes
        }
    for symbol in [*_CODE.values(), EOS]:  # every token has a unigram, seen or not (its share of the uniform)
        grams[1].setdefault(symbol, 0)
    vocab = len(grams[1])  # the tokens and </s>
    probs: list[dict[str, float]] = [{} for _ in range(order + 1)]
    gammas: dict[str, float] = {}
    for n in range(1, order + 1):
        hist = Counter(c for c in grams[n].values() if c <= 2)
        discount = hist[1] / (hist[1] + 2 * hist[2]) if hist[1] else 0.5
        totals: defaultdict[str, int] = defaultdict(int)
        types: defaultdict[str, int] = defaultdict(int)
        for gram, c in grams[n].items():
            totals[gram[:-1]] += c
            types[gram[:-1]] += c > 0
        for context, total in totals.items():
            gammas[context] = discount * types[context] / total if total else 1.0
        for gram, c in grams[n].items():
            context = gram[:-1]
            lower = 1.0 / vocab if n == 1 else probs[n - 1][gram[1:]]
            seen = max(c - discount, 0) / totals[context] if totals[context] else 0.0
            probs[n][gram] = seen + gammas[context] * lower
    logs = [{g: math.log10(p) for g, p in level.items()} for level in probs]
    backoffs = {h: math.log10(g) for h, g in gammas.items() if h and g > 0}
    return logs, backoffs


def write_arpa(logs: list[dict[str, float]], backoffs: dict[str, float], out: Path) -> None:
    """The ARPA file NeMo's ``NGramGPULanguageModel.from_arpa`` reads (``\\data\\`` on its first line)."""

    def symbols(gram: str) -> str:
        return " ".join("<s>" if c == BOS else "</s>" if c == EOS else c for c in gram)

    order = len(logs) - 1
    unigrams = dict(logs[1])
    unigrams[BOS] = -99.0
    with out.open("w", encoding="utf-8") as f:
        f.write("\\data\\\n")
        f.write(f"ngram 1={len(unigrams)}\n")
        for n in range(2, order + 1):
            f.write(f"ngram {n}={len(logs[n])}\n")
        for n in range(1, order + 1):
            f.write(f"\n\\{n}-grams:\n")
            for gram, logp in sorted((unigrams if n == 1 else logs[n]).items()):
                line = f"{logp:.6f}\t{symbols(gram)}"
                if n < order:
                    line += f"\t{backoffs.get(gram, 0.0):.6f}"
                f.write(line + "\n")
        f.write("\n\\end\\\n")


def build(out: Path, order: int = 6, lines: int = 150_000, seed: int = 1, min_count: int = 2) -> dict:
    start = time.monotonic()
    text = lm_lines(lines, seed)
    raw = count_ngrams(text, order)
    logs, backoffs = kneser_ney(raw, order, min_count)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_arpa(logs, backoffs, out)
    return {
        "file": out.name,
        "order": order,
        "lines": lines,
        "seed": seed,
        "min_count": min_count,
        "characters": sum(len(t) for t in text),
        "ngrams": {n: len(logs[n]) for n in range(1, order + 1)},
        "bytes": out.stat().st_size,
        "seconds": round(time.monotonic() - start, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--order", type=int, default=6)
    parser.add_argument("--lines", type=int, default=150_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--min-count", type=int, default=2)
    args = parser.parse_args(argv)
    figures = build(args.out, args.order, args.lines, args.seed, args.min_count)
    args.out.with_suffix(".json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(figures)


if __name__ == "__main__":
    main()
