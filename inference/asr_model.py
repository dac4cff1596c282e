"""The bundled French character CTC model: labels, text normalisation, hand-written NeMo config, metrics.

The NeMo wheel ships no example configs, so the Conformer-CTC config is written here. Import of NeMo is
deferred to :func:`new_model` (it takes ~30 s), so the text helpers stay cheap to import.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig, OmegaConf

from inference.text import APOSTROPHES, number_to_words

BUNDLED_MODEL = Path(__file__).resolve().parent.parent / "models" / "asr" / "callaudit-fr-ctc-small.nemo"
"""The speech model this repository ships (``callaudit asr train`` writes it; the default ASR model)."""
BUNDLED_LM = BUNDLED_MODEL.with_name("callaudit-fr-char-lm.arpa")
"""The character n-gram LM the bundled model decodes with (``python -m training.asr_lm`` writes it)."""
LM_ALPHA, LM_BETA = 0.7, 1.0
"""The LM's weight and the bonus per emitted token in the beam search, chosen on dev seeds 601 and 602."""
BEAM_SIZE = 32
"""Beams the LM beam search keeps, chosen on dev seed 602 (115 calls, the same log-probs decoded each way):
WER 55.7 % with 8, 54.1 % with 16, 53.3 % with 32, 52.8 % with 64; the decoding took ~1.8× as long with 32
as with 8."""

if TYPE_CHECKING:
    from nemo.collections.asr.models import EncDecCTCModel

LABELS: list[str] = [" ", *"abcdefghijklmnopqrstuvwxyz", "'", *"éèêëàâçîïôûùüÿœæ"]
_ALLOWED = frozenset(LABELS)


def normalize_text(text: str) -> str:
    """Lower-case, spell digits, map hyphens/punctuation to spaces; keep accents and apostrophes."""
    text = unicodedata.normalize("NFC", text).lower().translate(APOSTROPHES)
    text = re.sub(r"\d+", lambda m: " " + number_to_words(int(m.group()) % 1_000_000) + " ", text)
    text = "".join(ch if ch in _ALLOWED else " " for ch in text)
    text = re.sub(r"(?<![^\W\d_])'|'(?![^\W\d_])", " ", text)  # keep only elisions like l'adresse
    return re.sub(r"\s+", " ", text).strip()


def edit_distance(ref: Sequence[str], hyp: Sequence[str]) -> int:
    """Levenshtein distance between two sequences: words (``text.split()``) or characters."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def error_rates(refs: Sequence[str], hyps: Sequence[str]) -> dict[str, float]:
    """Corpus WER and CER (errors / reference length) over normalised texts."""
    words = chars = word_err = char_err = 0
    for ref, hyp in zip(refs, hyps, strict=True):
        r, h = normalize_text(ref), normalize_text(hyp)
        word_err += edit_distance(r.split(), h.split())
        char_err += edit_distance(list(r), list(h))
        words += len(r.split())
        chars += len(r)
    return {"wer": word_err / max(words, 1), "cer": char_err / max(chars, 1), "n": float(len(refs))}


def mel_preprocessor(sample_rate: int, features: int, **extra: Any) -> dict[str, Any]:
    """NeMo's log-mel front end as a config section: 25 ms Hann windows every 10 ms, a 512-point FFT,
    per-feature normalisation; ``extra`` adds or overrides keys (dither, padding)."""
    return {
        "_target_": "nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor",
        "sample_rate": sample_rate,
        "normalize": "per_feature",
        "window_size": 0.025,
        "window_stride": 0.01,
        "window": "hann",
        "features": features,
        "n_fft": 512,
        "frame_splicing": 1,
        **extra,
    }


_PRESETS: dict[str, dict[str, Any]] = {
    "small": {"d_model": 144, "n_layers": 6, "n_heads": 4, "conv_kernel_size": 31, "features": 80},
    "tiny": {"d_model": 32, "n_layers": 1, "n_heads": 2, "conv_kernel_size": 9, "features": 64},
}


def _dataset(labels: Sequence[str], sample_rate: int, manifest: str | None, train: bool) -> dict[str, Any]:
    return {
        "manifest_filepath": manifest,
        "labels": list(labels),
        "sample_rate": sample_rate,
        "batch_size": 24 if train else 16,
        "shuffle": train,
        "num_workers": 0,
        "pin_memory": False,
        "trim_silence": False,
        "max_duration": 20.0,
        "min_duration": 0.1,
        "parser": "base",
    }


def build_config(
    preset: str = "small", labels: Sequence[str] = LABELS, sample_rate: int = 16000
) -> DictConfig:
    """The EncDecCTCModel config (the ``model`` section) for a preset: ``small`` (~3 M) or ``tiny``."""
    if preset not in _PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose from {sorted(_PRESETS)}")
    p = _PRESETS[preset]
    cfg = {
        "sample_rate": sample_rate,
        "labels": list(labels),
        "log_prediction": False,
        "ctc_reduction": "mean_batch",
        "skip_nan_grad": False,
        "train_ds": _dataset(labels, sample_rate, None, train=True),
        "validation_ds": _dataset(labels, sample_rate, None, train=False),
        "preprocessor": mel_preprocessor(
            sample_rate, p["features"], log=True, dither=1e-5, pad_to=0, pad_value=0.0
        ),
        "spec_augment": {
            "_target_": "nemo.collections.asr.modules.SpectrogramAugmentation",
            "freq_masks": 2,
            "time_masks": 4,
            "freq_width": 15,
            "time_width": 0.05,
        },
        "encoder": {
            "_target_": "nemo.collections.asr.modules.ConformerEncoder",
            "feat_in": p["features"],
            "feat_out": -1,
            "n_layers": p["n_layers"],
            "d_model": p["d_model"],
            "subsampling": "striding",
            "subsampling_factor": 4,
            "subsampling_conv_channels": -1,
            "ff_expansion_factor": 4,
            "self_attention_model": "rel_pos",
            "n_heads": p["n_heads"],
            "att_context_size": [-1, -1],
            "xscaling": True,
            "untie_biases": True,
            "pos_emb_max_len": 5000,
            "conv_kernel_size": p["conv_kernel_size"],
            "conv_norm_type": "batch_norm",
            "dropout": 0.1,
            "dropout_pre_encoder": 0.1,
            "dropout_emb": 0.0,
            "dropout_att": 0.1,
        },
        "decoder": {
            "_target_": "nemo.collections.asr.modules.ConvASRDecoder",
            "feat_in": p["d_model"],
            "num_classes": len(labels),
            "vocabulary": list(labels),
        },
        "optim": {
            "name": "adamw",
            "lr": 2e-3,
            "betas": [0.9, 0.98],
            "weight_decay": 1e-3,
            "sched": {"name": "CosineAnnealing", "warmup_steps": 200, "min_lr": 1e-5, "max_steps": 2000},
        },
    }
    return OmegaConf.create(cfg)


def new_model(
    preset: str = "small",
    train_manifest: str | None = None,
    val_manifest: str | None = None,
    batch_size: int | None = None,
    max_steps: int | None = None,
    lr: float | None = None,
    trainer: Any = None,
) -> EncDecCTCModel:
    """A freshly initialised EncDecCTCModel; data loaders are set up when manifests are given."""
    from nemo.collections.asr.models import EncDecCTCModel

    cfg = build_config(preset)
    cfg.train_ds.manifest_filepath = train_manifest
    cfg.validation_ds.manifest_filepath = val_manifest
    if batch_size:
        cfg.train_ds.batch_size = batch_size
    if max_steps:
        cfg.optim.sched.max_steps = max_steps
        cfg.optim.sched.warmup_steps = max(1, min(200, max_steps // 10))
    if lr:
        cfg.optim.lr = lr
    return EncDecCTCModel(cfg=cfg, trainer=trainer)


def hypothesis_texts(result: Any) -> list[str]:
    """Texts from ``transcribe()`` output (Hypothesis objects, strings, or a (best, all) tuple)."""
    if isinstance(result, tuple):
        result = result[0]
    return [h if isinstance(h, str) else str(getattr(h, "text", h)) for h in result]
