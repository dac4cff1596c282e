"""Overlap resolution: ``resolve`` merges same-type candidates and keeps the best of overlapping ones;
``_occurrences`` and ``_free`` re-find known values in a text."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from inference.redaction.candidates import _Cand
from inference.text import fold_aligned, strip_accents_aligned


def _merge_same_type(text: str, cands: list[_Cand]) -> list[_Cand]:
    """Union overlapping candidates of one type (and ADDRESS parts separated only by commas/spaces)."""
    out: list[_Cand] = []
    for etype in {c.entity_type for c in cands}:
        group = sorted((c for c in cands if c.entity_type == etype), key=lambda c: (c.start, -c.end))
        current = group[0]
        for cand in group[1:]:
            gap = text[current.end : cand.start]
            touching = cand.start < current.end or (
                etype == "ADDRESS" and re.fullmatch(r"[ \t,;]*(?:et[ \t]+|and[ \t]+)?", gap)
            )
            if touching:
                current = _Cand(
                    etype, current.start, max(current.end, cand.end), max(current.score, cand.score)
                )
            else:
                out.append(current)
                current = cand
        out.append(current)
    return out


def _trim(text: str, cand: _Cand) -> _Cand | None:
    start, end = cand.start, cand.end
    while start < end and (text[start].isspace() or text[start] in ",;:"):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in ",;:"):
        end -= 1
    if end > start and text[end - 1] == "." and cand.entity_type not in ("ADDRESS", "PERSON"):
        end -= 1
    return _Cand(cand.entity_type, start, end, cand.score) if end > start else None


def resolve(text: str, cands: Iterable[_Cand]) -> list[_Cand]:
    """Non-overlapping candidates: same-type overlaps merge, then higher score (then longer) wins."""
    trimmed = [t for t in (_trim(text, c) for c in cands) if t]
    if not trimmed:
        return []
    merged = _merge_same_type(text, trimmed)
    # A span inside a longer confident one (a phone inside a RIB, a name inside a street) is part of it.
    merged = [c for c in merged if not any(_inside(c, other) and other.score >= 0.7 for other in merged)]
    accepted: list[_Cand] = []
    for cand in sorted(merged, key=lambda c: (-c.score, c.start - c.end, c.start)):
        if all(cand.end <= a.start or cand.start >= a.end for a in accepted):
            accepted.append(cand)
    return sorted(accepted, key=lambda c: c.start)


def _inside(inner: _Cand, outer: _Cand) -> bool:
    return (
        outer.start <= inner.start
        and inner.end <= outer.end
        and (outer.end - outer.start) > (inner.end - inner.start)
    )


def _occurrences(text: str, value: str) -> Iterable[tuple[int, int]]:
    """Case/accent-insensitive, whole-word, whitespace-flexible occurrences of ``value`` in ``text``."""
    words = fold_aligned(value).split()
    if not words:
        return []
    pattern = r"(?<![^\W_])" + r"[ \t]+".join(re.escape(w) for w in words) + r"(?![^\W_])"
    return [(m.start(), m.end()) for m in re.finditer(pattern, strip_accents_aligned(text), re.I)]


def _free(accepted: Sequence[_Cand], start: int, end: int) -> bool:
    return all(end <= a.start or start >= a.end for a in accepted)
