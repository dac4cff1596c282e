"""Which torch device a configured ``auto`` / ``cpu`` / ``cuda`` means on this machine."""

from __future__ import annotations


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
