"""Chunk texts joined back into a channel's text without repeating what two overlapping chunks both
heard (:func:`stitch`): cut at the overlap's middle where words are timed, else by dropping the longest
repeated word run."""

from __future__ import annotations

import re
from collections.abc import Sequence

from inference.asr.types import Piece, Stitched, Word

_NORM = re.compile(r"[^\w']+")


def _norm_word(word: str) -> str:
    return _NORM.sub("", word.casefold())


def _overlap_len(previous: Sequence[str], current: Sequence[str], max_words: int) -> int:
    """Length of the longest suffix of ``previous`` equal to a prefix of ``current`` (≤ max_words)."""
    a = [_norm_word(w) for w in previous[-max_words:]]
    b = [_norm_word(w) for w in current[:max_words]]
    for k in range(min(len(a), len(b)), 0, -1):
        if a[-k:] == b[:k] and any(a[-k:]):
            return k
    return 0


def stitch(pieces: list[Piece], overlap_s: float, max_words: int = 8) -> Stitched:
    """Join chunk results in order without repeating what two consecutive chunks both heard.

    ``pieces``: ``(chunk_start_s, chunk_end_s, text, words)`` in chunk order, times in call time; ``words``
    is ``[(start_s, end_s, word), ...]`` or ``None`` when the model gave no timestamps.

    Where both chunks of a boundary have word timestamps, the boundary is cut at the middle of their
    overlap: the earlier chunk keeps the words that start before it, the later one the words that start
    at or after it. Elsewhere the later chunk loses the longest prefix (≤ ``max_words`` words) that repeats
    the end of the text so far.
    """
    if not pieces:
        return Stitched("", (), False)
    timed = [p[3] is not None for p in pieces]
    # Cut points at the overlap midpoints of timestamped boundaries.
    cuts: list[float | None] = []
    for k in range(len(pieces) - 1):
        if timed[k] and timed[k + 1]:
            overlap = max(0.0, pieces[k][1] - pieces[k + 1][0])
            overlap = min(overlap, overlap_s) if overlap_s > 0 else overlap
            cuts.append(pieces[k + 1][0] + overlap / 2)
        else:
            cuts.append(None)

    out_words: list[str] = []
    units: list[Word] = []
    for k, (start, end, text, words) in enumerate(pieces):
        lo = cuts[k - 1] if k > 0 else None
        hi = cuts[k] if k < len(cuts) else None
        if words is not None:
            kept = [
                (ws, we, w)
                for ws, we, w in words
                if w.strip() and (lo is None or ws >= lo) and (hi is None or ws < hi)
            ]
            if lo is None and k > 0 and start < pieces[k - 1][1]:  # untimed overlap: match the text
                drop = _overlap_len(out_words, [w for _, _, w in kept], max_words)
                kept = kept[drop:]
            units.extend(kept)
            out_words.extend(w for _, _, w in kept)
        else:
            tokens = text.split()
            if k > 0 and start < pieces[k - 1][1]:  # only audio both chunks heard can repeat
                tokens = tokens[_overlap_len(out_words, tokens, max_words) :]
            if tokens:
                units.append((start, end, " ".join(tokens)))
                out_words.extend(tokens)
    return Stitched(" ".join(out_words), tuple(units), all(timed))
