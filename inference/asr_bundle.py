"""Bundle a trained ASR model: a copy that holds no path of the machine that trained it.

NeMo saves a model's data-loader configs (``train_ds.manifest_filepath``…) inside the ``.nemo`` file and
prints them on every load; a bundled model must not carry the training folder. The training recipe
writes its model where it trained; this step writes the shipped copy with every absolute path in its
config cleared (NeMo's own ``restore_from``/``save_to``: weights untouched) and its metrics beside it.

    python -m inference.asr_bundle /path/to/out/callaudit-fr-ctc-small.nemo models/asr/
"""

from __future__ import annotations

import argparse
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import yaml

from inference.hashing import file_sha256


def absolute_paths(config: Any, where: str = "") -> list[str]:
    """``key.path=value`` for every string of a (nested) config that is an absolute filesystem path."""
    found: list[str] = []
    if isinstance(config, dict):
        for key, value in config.items():
            found += absolute_paths(value, f"{where}.{key}" if where else str(key))
    elif isinstance(config, list):
        for i, value in enumerate(config):
            found += absolute_paths(value, f"{where}[{i}]")
    elif isinstance(config, str) and config.startswith(("/", "~")) and len(config) > 1:
        found.append(f"{where}={config}")
    return found


def saved_config(nemo_file: Path) -> dict[str, Any]:
    """The config a ``.nemo`` file holds, read from its tar without loading NeMo."""
    with tarfile.open(nemo_file) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("model_config.yaml"))
        return yaml.safe_load(io.TextIOWrapper(tar.extractfile(member), encoding="utf-8"))


def _clear(config: Any) -> None:
    from omegaconf import DictConfig, ListConfig

    if isinstance(config, DictConfig):
        for key in list(config.keys()):
            value = config.get(key)
            if isinstance(value, str) and value.startswith(("/", "~")) and len(value) > 1:
                config[key] = None
            else:
                _clear(value)
    elif isinstance(config, ListConfig):
        for value in config:
            _clear(value)


def bundle(model_file: Path, dest_dir: Path) -> Path:
    """Write ``dest_dir/<model name>`` without machine paths, and copy ``metrics.json`` if it is beside it."""
    from nemo.collections.asr.models import ASRModel
    from omegaconf import open_dict

    dest_dir.mkdir(parents=True, exist_ok=True)
    model = ASRModel.restore_from(str(model_file), map_location="cpu")
    cfg = model.cfg
    with open_dict(cfg):
        _clear(cfg)
    model.cfg = cfg
    dest = dest_dir / model_file.name
    model.save_to(str(dest))
    left = absolute_paths(saved_config(dest))
    if left:
        raise RuntimeError(f"{dest} still holds machine paths: {left}")
    metrics_file = model_file.with_name("metrics.json")
    if metrics_file.exists():
        metrics = json.loads(metrics_file.read_text(encoding="utf-8"))
        metrics["bundled_sha256"] = file_sha256(dest)  # the recipe's model_sha256 is of the file it wrote
        (dest_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n")
    return dest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("model", type=Path, help="the .nemo file the training recipe wrote")
    parser.add_argument("dest", type=Path, help="the folder of the shipped model (models/asr/)")
    args = parser.parse_args(argv)
    dest = bundle(args.model, args.dest)
    print(json.dumps({"bundled": str(dest), "bytes": dest.stat().st_size}))


if __name__ == "__main__":
    main()
