"""The ASR model's identity and loading: :func:`model_id_for` (``<file>@<sha256[:12]>`` of a ``.nemo``
file or the pretrained name, with the decoder and LM suffixes: part of the transcripts' key, the file
hash cached per path, size and mtime) and :func:`load_model` (NeMo imported there, a one-line
:class:`AsrModelError` for anything that cannot be loaded, the CTC beam search with an n-gram LM)."""

from __future__ import annotations

import tarfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from inference.asr.config import AsrConfig
from inference.hashing import file_sha256


class AsrModelError(RuntimeError):
    """An ASR model that cannot be loaded; the message is one line naming the model and what is missing."""


def _is_model_file(model: str) -> bool:
    path = Path(model)
    return path.suffix == ".nemo" or path.exists()


@lru_cache(maxsize=16)
def _hashed_id(path: str, size: int, mtime_ns: int) -> str:
    return f"{Path(path).name}@{file_sha256(path)[:12]}"


def model_id_for(config: AsrConfig) -> str:
    """The model's identity without loading it: ``<file name>@<sha256[:12]>`` of a ``.nemo`` file (so a
    retrained file gets a new id), or the pretrained name; ``+ctc`` / ``+rnnt`` when a hybrid model's
    decoder is chosen. Part of the transcripts' idempotency key."""
    suffix = f"+{config.decoder}" if config.decoder else ""
    if config.lm is not None:
        lm = Path(config.lm)
        if not lm.is_file():
            raise FileNotFoundError(f"ASR language model {config.lm}: file not found")
        suffix += f"+{_file_id(lm)}-a{config.lm_alpha:g}-w{config.lm_beta:g}-b{config.beam_size}"
    if not _is_model_file(config.model):
        return config.model + suffix
    path = Path(config.model)
    if not path.exists():
        raise FileNotFoundError(f"ASR model {config.model}: file not found")
    if not path.is_file():
        raise AsrModelError(
            f"ASR model {config.model}: not a .nemo file (a {'folder' if path.is_dir() else 'special file'})"
        )
    return _file_id(path) + suffix


def _file_id(path: Path) -> str:
    """``<file name>@<sha256[:12]>``, hashed once per (path, size, mtime)."""
    stat = path.stat()
    return _hashed_id(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0][:200]}" if lines else type(error).__name__


def load_model(config: AsrConfig, device: Any) -> Any:
    """The NeMo model of ``config.model`` on ``device``, its decoder set to ``config.decoder`` when given.

    Raises :class:`FileNotFoundError` (no such file) or :class:`AsrModelError` (not a NeMo checkpoint, a
    pretrained name the hub cannot give, a decoder the model lacks), each with a one-line message.
    """
    from nemo.collections.asr.models import ASRModel

    name = config.model
    if _is_model_file(name):
        path = Path(name)
        if not path.exists():
            raise FileNotFoundError(f"ASR model {name}: file not found")
        if not tarfile.is_tarfile(path):
            raise AsrModelError(f"ASR model {name}: not a .nemo checkpoint (a .nemo file is a tar archive)")
        try:  # instantiates the class saved in the file (EncDecCTCModel for the bundled model)
            model = ASRModel.restore_from(name, map_location=device)
        except Exception as error:
            raise AsrModelError(
                f"ASR model {name}: cannot be restored as a NeMo ASR model ({_first_line(error)})"
            ) from error
    else:
        try:
            model = ASRModel.from_pretrained(name, map_location=device)
        except Exception as error:
            raise AsrModelError(
                f"ASR model {name}: no such .nemo file, and the model hub could not give a pretrained "
                f"model of that name (no hub access, or an unknown name; {_first_line(error)})"
            ) from error
    if config.decoder is not None:
        if not hasattr(model, "cur_decoder"):
            raise AsrModelError(
                f"ASR model {name}: decoder={config.decoder} needs a hybrid RNNT-CTC model, "
                f"this one is {type(model).__name__} (leave the decoder unset)"
            )
        model.change_decoding_strategy(decoder_type=config.decoder, verbose=False)
    if config.lm is not None:
        _use_language_model(model, config)
    return model


def _use_language_model(model: Any, config: AsrConfig) -> None:
    """CTC beam search with the n-gram LM of ``config.lm`` (NeMo's ``beam_batch``: CPU or GPU, batched)."""
    from omegaconf import OmegaConf, open_dict

    if "decoding" not in model.cfg or not hasattr(model, "change_decoding_strategy"):
        raise AsrModelError(f"ASR model {config.model}: has no CTC decoding to add a language model to")
    decoding = OmegaConf.create(OmegaConf.to_container(model.cfg.decoding))
    with open_dict(decoding):
        decoding.strategy = "beam_batch"
        decoding.beam = {
            "beam_size": config.beam_size,
            "ngram_lm_model": str(config.lm),
            "ngram_lm_alpha": config.lm_alpha,
            "beam_beta": config.lm_beta,
            "return_best_hypothesis": True,
        }
    try:
        model.change_decoding_strategy(decoding, verbose=False)
    except Exception as error:
        raise AsrModelError(
            f"ASR language model {config.lm}: cannot be used with {config.model} ({_first_line(error)})"
        ) from error
