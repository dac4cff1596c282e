"""The two channels of a stereo call merged into one turn-ordered dialogue transcript
(:func:`merge_dialogue`: ``agent: …`` / ``client: …``, one turn a line)."""

from __future__ import annotations

from collections.abc import Iterable

from inference.asr.types import DIALOGUE_LABELS, Segment, Transcript


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return float(sum(present) / len(present)) if present else None


def merge_dialogue(agent: Transcript, customer: Transcript) -> Transcript:
    """One transcript of both sides, ordered by segment start: consecutive segments of one speaker make a
    turn, written ``"agent: …"`` or ``"client: …"``, one turn a line."""
    tagged = sorted(
        [(s.start_s, 0, s) for s in agent.segments] + [(s.start_s, 1, s) for s in customer.segments],
        key=lambda item: (item[0], item[1]),
    )
    turns: list[tuple[int, list[Segment]]] = []
    for _, side, seg in tagged:
        if not seg.text.strip():
            continue
        if turns and turns[-1][0] == side:
            turns[-1][1].append(seg)
        else:
            turns.append((side, [seg]))
    labels = (DIALOGUE_LABELS["agent"], DIALOGUE_LABELS["customer"])
    segments = tuple(
        Segment(
            start_s=segs[0].start_s,
            end_s=max(s.end_s for s in segs),
            text=f"{labels[side]}: " + " ".join(s.text for s in segs),
            confidence=_mean(s.confidence for s in segs),
        )
        for side, segs in turns
    )
    return Transcript(
        channel="dialogue",
        text="\n".join(s.text for s in segments),
        segments=segments,
        confidence=_mean([agent.confidence, customer.confidence]),
        model_id=agent.model_id,
        chunking_id=agent.chunking_id,
    )
