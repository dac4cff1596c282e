"""Tiny, randomly initialised NeMo models of the families real checkpoints belong to, built offline.

Real French and multilingual checkpoints (``stt_fr_fastconformer_hybrid_large_pc``,
``nvidia/parakeet-tdt-0.6b-v3``, ``stt_fr_conformer_ctc_large``…) are FastConformer encoders with a
SentencePiece tokenizer and a CTC, RNNT, TDT or hybrid RNNT-CTC decoder. None can be downloaded here, so
:func:`build_family` makes a one-layer model of each family (random weights, a BPE tokenizer trained on a
little French text with capitals and punctuation) and saves it as ``.nemo``. Their output is noise; they
prove that the transcription stage handles each family's hypotheses.

``python -m training.asr_families OUT_DIR [family…]`` writes ``OUT_DIR/tiny_<family>.nemo``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from inference.asr_model import mel_preprocessor

FAMILIES = ("ctc_bpe", "rnnt_bpe", "tdt", "hybrid")
"""FastConformer CTC-BPE, RNNT-BPE, TDT (RNNT-BPE with TDT loss and decoding), hybrid RNNT-CTC."""

TDT_DURATIONS = [0, 1, 2, 3, 4]
D_MODEL = 32
FEATURES = 64


def french_text() -> list[str]:
    """Cased, punctuated French lines from the call generator and the speech-model corpus."""
    from synth import phrases
    from training.asr_corpus import train_sentences

    lines: list[str] = []
    # the phrase pools only: not the module's own attributes (__file__ would make the text depend on
    # where the repository is checked out)
    for name, value in vars(phrases).items():
        if name.startswith("_"):
            continue
        items = value.values() if isinstance(value, dict) else [value]
        for item in items:
            if isinstance(item, str):
                lines.append(item)
            elif isinstance(item, tuple):
                lines.extend(v for v in item if isinstance(v, str))
    lines.extend(s[:1].upper() + s[1:] + "." for s in train_sentences(300))
    return [line for line in lines if line.strip()]


def train_tokenizer(out_dir: Path, vocab_size: int = 128) -> Path:
    """A SentencePiece BPE tokenizer (``tokenizer.model``) in ``out_dir``, as NeMo's ``tokenizer.dir``."""
    import sentencepiece as spm

    out_dir.mkdir(parents=True, exist_ok=True)
    text = out_dir / "text.txt"
    text.write_text("\n".join(french_text()) + "\n", encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(text),
        model_prefix=str(out_dir / "tokenizer"),
        vocab_size=vocab_size,
        model_type="bpe",
        character_coverage=1.0,
        bos_id=-1,
        eos_id=-1,
        minloglevel=2,
    )
    processor = spm.SentencePieceProcessor(model_file=str(out_dir / "tokenizer.model"))
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    (out_dir / "vocab.txt").write_text("\n".join(pieces) + "\n", encoding="utf-8")  # NeMo registers it
    return out_dir


def _rnnt_parts(durations: list[int] | None) -> dict[str, Any]:
    joint: dict[str, Any] = {
        "_target_": "nemo.collections.asr.modules.RNNTJoint",
        "log_softmax": None,
        "preserve_memory": False,
        "fuse_loss_wer": False,
        "jointnet": {"joint_hidden": D_MODEL, "activation": "relu", "dropout": 0.0},
    }
    decoding: dict[str, Any] = {"strategy": "greedy_batch", "greedy": {"max_symbols": 5}}
    loss: dict[str, Any] = {"loss_name": "default"}
    if durations is not None:
        joint["num_extra_outputs"] = len(durations)
        decoding.update(model_type="tdt", durations=durations)
        loss = {
            "loss_name": "tdt",
            "tdt_kwargs": {"durations": durations, "sigma": 0.02, "omega": 0.1},
        }
    return {
        "model_defaults": {"enc_hidden": D_MODEL, "pred_hidden": D_MODEL, "joint_hidden": D_MODEL},
        "decoder": {
            "_target_": "nemo.collections.asr.modules.RNNTDecoder",
            "normalization_mode": None,
            "random_state_sampling": False,
            "blank_as_pad": True,
            "prednet": {"pred_hidden": D_MODEL, "pred_rnn_layers": 1, "t_max": None, "dropout": 0.0},
        },
        "joint": joint,
        "decoding": decoding,
        "loss": loss,
    }


def _ctc_decoder() -> dict[str, Any]:
    return {
        "_target_": "nemo.collections.asr.modules.ConvASRDecoder",
        "feat_in": D_MODEL,
        "num_classes": -1,
        "vocabulary": [],
    }


def build_config(family: str, tokenizer_dir: Path, sample_rate: int = 16000) -> DictConfig:
    """The ``model`` section of a one-layer FastConformer (dw_striding ×8) of ``family``."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; choose from {FAMILIES}")
    cfg: dict[str, Any] = {
        "sample_rate": sample_rate,
        "tokenizer": {"dir": str(tokenizer_dir), "type": "bpe"},
        "preprocessor": mel_preprocessor(sample_rate, FEATURES, dither=0.0, pad_to=0),
        "encoder": {
            "_target_": "nemo.collections.asr.modules.ConformerEncoder",
            "feat_in": FEATURES,
            "feat_out": -1,
            "n_layers": 1,
            "d_model": D_MODEL,
            "subsampling": "dw_striding",
            "subsampling_factor": 8,
            "subsampling_conv_channels": D_MODEL,
            "ff_expansion_factor": 2,
            "self_attention_model": "rel_pos",
            "n_heads": 2,
            "att_context_size": [-1, -1],
            "xscaling": True,
            "pos_emb_max_len": 5000,
            "conv_kernel_size": 9,
            "conv_norm_type": "batch_norm",
            "dropout": 0.0,
            "dropout_pre_encoder": 0.0,
            "dropout_emb": 0.0,
            "dropout_att": 0.0,
        },
        "train_ds": None,
        "validation_ds": None,
        "test_ds": None,
        "optim": None,
    }
    if family == "ctc_bpe":
        cfg["decoder"] = _ctc_decoder()
        cfg["decoding"] = {"strategy": "greedy"}
    else:
        cfg.update(_rnnt_parts(TDT_DURATIONS if family == "tdt" else None))
    if family == "hybrid":
        cfg["aux_ctc"] = {
            "ctc_loss_weight": 0.3,
            "use_cer": False,
            "ctc_reduction": "mean_batch",
            "decoder": {**_ctc_decoder(), "feat_in": None},
            "decoding": {"strategy": "greedy"},
        }
    return OmegaConf.create(cfg)


def model_class(family: str) -> Any:
    """The NeMo class a checkpoint of ``family`` is saved as."""
    from nemo.collections.asr.models import (
        EncDecCTCModelBPE,
        EncDecHybridRNNTCTCBPEModel,
        EncDecRNNTBPEModel,
    )

    return {
        "ctc_bpe": EncDecCTCModelBPE,
        "rnnt_bpe": EncDecRNNTBPEModel,
        "tdt": EncDecRNNTBPEModel,
        "hybrid": EncDecHybridRNNTCTCBPEModel,
    }[family]


def _spread_outputs(model: Any, gain: float = 8.0) -> None:
    """Redraw the output projections (vocabulary-sized) with a larger spread and no bias, so that a random
    transducer emits several words, capitals and punctuation on noise rather than one token repeated."""
    import torch

    vocab = model.tokenizer.vocab_size
    for part in ("decoder", "joint", "ctc_decoder"):
        module = getattr(model, part, None)
        if module is None:
            continue
        for layer in module.modules():
            if isinstance(layer, torch.nn.Linear | torch.nn.Conv1d) and layer.weight.shape[0] >= vocab:
                torch.nn.init.normal_(layer.weight, std=gain / layer.weight.shape[1] ** 0.5)
                if layer.bias is not None:
                    torch.nn.init.zeros_(layer.bias)


def build_family(family: str, out_dir: Path, sample_rate: int = 16000, seed: int = 0) -> Path:
    """Save a tiny random model of ``family`` as ``out_dir/tiny_<family>.nemo`` (tokenizer packed inside)."""
    import torch

    out_dir = Path(out_dir)
    tokenizer_dir = out_dir / "tokenizer"
    if not (tokenizer_dir / "tokenizer.model").is_file():
        train_tokenizer(tokenizer_dir)
    torch.manual_seed(seed)
    model = model_class(family)(cfg=build_config(family, tokenizer_dir, sample_rate))
    _spread_outputs(model)
    path = out_dir / f"tiny_{family}.nemo"
    model.save_to(str(path))
    return path


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit(f"usage: python -m training.asr_families OUT_DIR [{'|'.join(FAMILIES)}…]")
    out = Path(argv[0])
    for family in argv[1:] or FAMILIES:
        path = build_family(family, out)
        print(f"{family}: {path} ({path.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main(sys.argv[1:])
