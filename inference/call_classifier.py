"""A small supervised call classifier that answers the classification contract without an LLM.

TF-IDF features (word 1-2-grams and character 2-5-grams within words) feed one linear head per output
(``call_type``, ``behavior``, ``sentiment``). :func:`fit` trains with scikit-learn; the result is written as
plain JSON (vocabularies, idf weights, coefficients, intercepts, rounded) and :meth:`CallClassifier.load`
rebuilds a numpy-only predictor from it: nothing is unpickled, no fitted scikit-learn object is needed to
predict. :meth:`CallClassifier.predict` returns an :class:`inference.llm_schema.Classification`, the same
object an LLM route returns, with a templated one-sentence summary and action items chosen by the
predicted call type (never a name, number or date that the model could have invented), and the probability
of its call type (``call_type_confidence``), which the verdict compares with a calibrated threshold
(:mod:`training.classifier_train`, :func:`training.classifier_train.calibrate_trust_threshold`).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from inference.llm_schema import CallType, Classification
from inference.text import fold_aligned

FORMAT = "callaudit-call-classifier/1"
HEADS: tuple[str, ...] = ("call_type", "behavior", "sentiment")
WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (2, 5)
DECIMALS = 4

SUMMARIES: dict[int, str] = {
    CallType.NO_CONVERSATION: (
        "Aucune conversation avec le client : pas de réponse, messagerie ou numéro injoignable."
    ),
    CallType.REFUSES: "Le client refuse l'installation.",
    CallType.RESCHEDULES: "Le client demande à reporter le rendez-vous.",
    CallType.ABSENT: "Le client est absent et ne peut pas recevoir le technicien.",
    CallType.OTHER: (
        "Le client ne refuse pas, ne reporte pas et n'est pas absent : l'intervention peut avoir lieu."
    ),
}
RUDE_CLAUSE = " Le technicien n'a pas été courtois."
ACTIONS: dict[int, tuple[str, ...]] = {
    CallType.NO_CONVERSATION: ("Rappeler le client à un autre moment.",),
    CallType.REFUSES: ("Confirmer le refus avec le client et annuler la commande.",),
    CallType.RESCHEDULES: ("Replanifier le rendez-vous à la date proposée par le client.",),
    CallType.ABSENT: ("Recontacter le client à son retour pour fixer un rendez-vous.",),
    CallType.OTHER: ("Maintenir l'intervention prévue.",),
}
RUDE_ACTION = "Signaler le comportement du technicien à son responsable."

_PII = re.compile(r"\[([A-Za-z]+)(?:_[A-Za-z]+)*?(?:_\d+)?\]")
_SPEAKER = re.compile(r"(?im)^\s*(?:agent|client|technicien|customer|tech)\s*:")
_DIGITS = re.compile(r"\d+")
_NON_WORD = re.compile(r"[^a-z0-9_ ]+")
_SPACES = re.compile(r"\s+")


# ----------------------------------------------------------------------------------- text features


def normalize(text: str) -> str:
    """The text the features are read from: PII tokens kept as one word, speaker labels dropped, accents
    stripped, lower case, digits as ``num``, punctuation as spaces. Written text and ASR output meet here."""
    text = _PII.sub(lambda m: f" pii{m.group(1).lower()} ", text)
    text = _SPEAKER.sub(" ", text)
    text = fold_aligned(text.replace("œ", "oe"))
    text = _DIGITS.sub(" num ", text)
    text = _NON_WORD.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def word_ngrams(norm: str) -> list[str]:
    """Word unigrams and bigrams of a normalised text."""
    words = norm.split()
    lo, hi = WORD_NGRAMS
    return [" ".join(words[i : i + n]) for n in range(lo, hi + 1) for i in range(len(words) - n + 1)]


def char_ngrams(norm: str) -> list[str]:
    """Character n-grams inside space-padded words (scikit-learn's ``char_wb``)."""
    lo, hi = CHAR_NGRAMS
    grams: list[str] = []
    for word in norm.split():
        padded = f" {word} "
        for n in range(lo, hi + 1):
            if len(padded) < n:
                break
            grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams


ANALYZERS: dict[str, Callable[[str], list[str]]] = {"word": word_ngrams, "char": char_ngrams}


@dataclass(frozen=True)
class TfidfSpace:
    """One TF-IDF block: sublinear term frequency times idf, L2-normalised, as scikit-learn computes it."""

    analyzer: str
    terms: tuple[str, ...]
    idf: np.ndarray
    offset: int = 0
    index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", {t: i for i, t in enumerate(self.terms)})

    def features(self, norm: str) -> tuple[np.ndarray, np.ndarray]:
        """Sparse (global column indices, values) of one normalised text."""
        counts = Counter(g for g in ANALYZERS[self.analyzer](norm) if g in self.index)
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        cols = np.fromiter((self.index[g] for g in counts), dtype=np.int64, count=len(counts))
        tf = np.fromiter((1.0 + math.log(c) for c in counts.values()), dtype=float, count=len(counts))
        values = tf * self.idf[cols]
        norm2 = float(np.sqrt(values @ values))
        return cols + self.offset, values / norm2 if norm2 else values


@dataclass(frozen=True)
class Head:
    """A linear classifier over all feature columns: softmax over classes, or a sigmoid when binary."""

    name: str
    classes: tuple[Any, ...]
    coef: np.ndarray  # (k, n_features); k == 1 for a binary head
    intercept: np.ndarray  # (k,)

    def probabilities(self, cols: np.ndarray, values: np.ndarray) -> np.ndarray:
        scores = self.coef[:, cols] @ values + self.intercept
        if len(self.classes) == 2:
            scores = np.array([0.0, float(scores[0])])  # a sigmoid is a softmax over (0, score)
        exp = np.exp(scores - scores.max())
        return exp / exp.sum()


@dataclass(frozen=True)
class LabelledCall:
    """One transcript and what it should be classified as."""

    text: str
    call_type: int
    behavior: int
    sentiment: str

    def label(self, head: str) -> Any:
        return getattr(self, head)


@dataclass(frozen=True)
class Prediction:
    """The contract's answer plus the probability of each chosen label."""

    classification: Classification
    confidence: dict[str, float]


def _is_silent(norm: str) -> bool:
    return not any(ch.isalpha() for ch in norm)


def compose_classification(
    call_type: int, behavior: int, sentiment: str, call_type_confidence: float | None = None
) -> Classification:
    """The contract's object for predicted labels: templated summary and action items, and the probability
    of the call type when the predictor knows it."""
    conversation = call_type != CallType.NO_CONVERSATION
    summary = SUMMARIES[call_type] + (RUDE_CLAUSE if conversation and not behavior else "")
    actions = list(ACTIONS[call_type]) + ([RUDE_ACTION] if conversation and not behavior else [])
    return Classification(
        call_type=call_type,
        behavior=behavior,
        sentiment=sentiment,
        summary=summary,
        action_items=actions,
        call_type_confidence=call_type_confidence,
    )


@dataclass(frozen=True)
class CallClassifier:
    """The numpy predictor: feature spaces and one head per output."""

    spaces: tuple[TfidfSpace, ...]
    heads: dict[str, Head]
    meta: dict[str, Any] = field(default_factory=dict)

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        norm = normalize(text)
        parts = [space.features(norm) for space in self.spaces]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def probabilities(self, text: str) -> dict[str, dict[Any, float]]:
        """Per head, the probability of each class."""
        cols, values = self.features(text)
        return {
            name: dict(zip(head.classes, map(float, head.probabilities(cols, values)), strict=True))
            for name, head in self.heads.items()
        }

    def predict_detailed(self, text: str) -> Prediction:
        """Labels, the contract's object and the confidence of each label. Silence is no conversation."""
        if _is_silent(normalize(text)):
            return Prediction(compose_classification(0, 1, "neutral", 1.0), dict.fromkeys(HEADS, 1.0))
        probs = self.probabilities(text)
        chosen = {name: max(p, key=p.__getitem__) for name, p in probs.items()}
        confidence = {name: round(probs[name][chosen[name]], 4) for name in HEADS}
        cls = compose_classification(
            int(chosen["call_type"]),
            int(chosen["behavior"]),
            str(chosen["sentiment"]),
            confidence["call_type"],
        )
        return Prediction(cls, confidence)

    def predict(self, text: str) -> Classification:
        """The contract's object for one transcript."""
        return self.predict_detailed(text).classification

    # ------------------------------------------------------------------------------- persistence

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "meta": self.meta,
            "spaces": [
                {"analyzer": s.analyzer, "terms": list(s.terms), "idf": _rounded(s.idf)} for s in self.spaces
            ],
            "heads": {
                name: {
                    "classes": list(h.classes),
                    "coef": [_rounded(row) for row in h.coef],
                    "intercept": _rounded(h.intercept),
                }
                for name, h in self.heads.items()
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CallClassifier:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a call classifier file (format {data.get('format')!r}, want {FORMAT!r})")
        spaces: list[TfidfSpace] = []
        offset = 0
        for s in data["spaces"]:
            if s["analyzer"] not in ANALYZERS:
                raise ValueError(f"unknown analyzer {s['analyzer']!r}")
            spaces.append(TfidfSpace(s["analyzer"], tuple(s["terms"]), np.asarray(s["idf"], float), offset))
            offset += len(s["terms"])
        heads = {
            name: Head(
                name, tuple(h["classes"]), np.asarray(h["coef"], float), np.asarray(h["intercept"], float)
            )
            for name, h in data["heads"].items()
        }
        for head in heads.values():
            if head.coef.shape[1] != offset:
                raise ValueError(f"head {head.name!r} has {head.coef.shape[1]} columns, features {offset}")
        return cls(tuple(spaces), heads, dict(data.get("meta", {})))

    def save(self, path: str | Path) -> Path:
        """Write the model as compact JSON; returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
        )
        return path

    @classmethod
    def load(cls, path: str | Path) -> CallClassifier:
        """Rebuild a predictor from a file written by :meth:`save`."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def _rounded(values: np.ndarray) -> list[float]:
    return [round(float(v), DECIMALS) for v in values]


# ----------------------------------------------------------------------------------- training


@dataclass(frozen=True)
class FitConfig:
    """Training settings (scikit-learn is imported only here)."""

    word_max_features: int = 10000
    char_max_features: int = 20000
    min_df: int = 2
    # Inverse regularisation per head: the customer's sentiment is subjective and phrased in countless ways,
    # so its head is regularised harder (it then leans on broad cues instead of memorised phrases).
    c: dict[str, float] = field(default_factory=lambda: {"call_type": 4.0, "behavior": 4.0, "sentiment": 0.3})
    max_iter: int = 2000
    seed: int = 0


def _fit_space(
    analyzer: str, norms: Sequence[str], max_features: int, min_df: int, offset: int
) -> TfidfSpace:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(
        analyzer=ANALYZERS[analyzer], sublinear_tf=True, min_df=min_df, max_features=max_features
    )
    vec.fit(norms)
    terms = sorted(vec.vocabulary_, key=vec.vocabulary_.__getitem__)
    idf = np.round(vec.idf_, DECIMALS)
    return TfidfSpace(analyzer, tuple(terms), idf, offset)


def _matrix(spaces: Sequence[TfidfSpace], norms: Sequence[str]) -> Any:
    from scipy.sparse import csr_matrix

    n_features = sum(len(s.terms) for s in spaces)
    indptr, indices, data = [0], [], []
    for norm in norms:
        for space in spaces:
            cols, values = space.features(norm)
            indices.append(cols)
            data.append(values)
        indptr.append(indptr[-1] + sum(len(c) for c in indices[-len(spaces) :]))
    return csr_matrix(
        (np.concatenate(data), np.concatenate(indices), np.asarray(indptr)), shape=(len(norms), n_features)
    )


def fit(examples: Sequence[LabelledCall], config: FitConfig | None = None) -> CallClassifier:
    """Train the feature spaces and the three heads on labelled transcripts."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    config = config or FitConfig()
    norms = [normalize(e.text) for e in examples]
    word = _fit_space("word", norms, config.word_max_features, config.min_df, 0)
    char = _fit_space("char", norms, config.char_max_features, config.min_df, len(word.terms))
    spaces = (word, char)
    x = _matrix(spaces, norms)
    heads: dict[str, Head] = {}
    for name in HEADS:
        y = [e.label(name) for e in examples]
        model = LogisticRegression(C=config.c[name], max_iter=config.max_iter, random_state=config.seed)
        with threadpool_limits(limits=1):  # small dense algebra: BLAS threads only contend (40x slower)
            model.fit(x, y)
        classes = tuple(c.item() if hasattr(c, "item") else c for c in model.classes_)
        heads[name] = Head(
            name, classes, np.round(model.coef_, DECIMALS), np.round(model.intercept_, DECIMALS)
        )
    meta = {"features": x.shape[1], "examples": len(examples), "c": dict(config.c)}
    return CallClassifier(spaces, heads, meta)
