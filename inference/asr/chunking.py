"""Where the model listens: the sample ranges of a channel's chunks, from the speech onset to the end
(:func:`plan_chunks`) or over its padded, joined speech spans (:func:`plan_speech_chunks`). Pure:
neither numpy nor torch."""

from __future__ import annotations

from collections.abc import Sequence


def plan_chunks(
    n_samples: int, rate: int, onset_s: float | None, chunk_s: float, overlap_s: float
) -> list[tuple[int, int]]:
    """Sample ranges ``[start, end)`` of the chunks from the onset to the end; the last one may be shorter.

    Consecutive chunks share ``overlap_s`` of audio. ``[]`` when there is no onset or no audio after it.
    """
    if onset_s is None or n_samples <= 0:
        return []
    if overlap_s < 0 or overlap_s >= chunk_s:
        raise ValueError(f"need 0 <= overlap_s < chunk_s, got {overlap_s=} {chunk_s=}")
    start = max(0, round(onset_s * rate))
    size = max(1, round(chunk_s * rate))
    step = max(1, size - round(overlap_s * rate))
    chunks: list[tuple[int, int]] = []
    while start < n_samples:
        end = min(start + size, n_samples)
        chunks.append((start, end))
        if end >= n_samples:
            break
        start += step
    return chunks


def plan_speech_chunks(
    spans: Sequence[tuple[float, float]],
    n_samples: int,
    rate: int,
    chunk_s: float,
    overlap_s: float,
    pad_s: float,
    join_s: float,
    floor_s: float = 0.0,
) -> list[tuple[int, int]]:
    """Sample ranges ``[start, end)`` covering a channel's speech spans: each span widened by ``pad_s``
    (never before ``floor_s``, the speech onset: what precedes it is ringing or a beep), spans closer than
    ``join_s`` joined, and a region longer than ``chunk_s`` cut like :func:`plan_chunks`. ``[]`` when the
    channel has no speech."""
    regions: list[list[float]] = []
    for start, end in sorted(spans):
        lo, hi = max(0.0, floor_s, start - pad_s), min(n_samples / rate, end + pad_s)
        if hi <= lo:
            continue
        if regions and lo - regions[-1][1] <= join_s:
            regions[-1][1] = max(regions[-1][1], hi)
        else:
            regions.append([lo, hi])
    chunks: list[tuple[int, int]] = []
    for lo, hi in regions:
        end = min(n_samples, round(hi * rate))
        chunks.extend(plan_chunks(end, rate, lo, chunk_s, overlap_s))
    return chunks
