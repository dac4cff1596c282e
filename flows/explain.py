"""What ``callaudit explain`` and ``callaudit clip`` show: an order's verdict with the proof of each failed
rule (``marts.verdict_evidence``), and the excerpt of a recording to listen to.

Both only read: the marts, ``raw.audio_files`` to find a call's recording, and the recording itself (a
folder, or an S3 prefix through the same cache as the stages).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import psycopg
import soundfile

from flows.config import Settings
from flows.storage import AudioRoots


class NotFound(LookupError):
    """No order, call or recording of that name: the message says what was looked for and where."""


@dataclass(frozen=True)
class Evidence:
    rule: str
    call_id: str | None
    attempt_number: int | None
    started_at: dt.datetime | None
    related_call_id: str | None
    start_s: float | None
    end_s: float | None
    detail: str
    transcript_redacted: str | None


@dataclass(frozen=True)
class Explanation:
    order_key: str
    motif: str | None
    suspended_on: dt.date
    compliant: bool
    needs_review: bool
    review_reason: str | None
    reasons: str
    decided_by: str
    evidence: tuple[Evidence, ...]


def explain(database_url: str, order: str) -> list[Explanation]:
    """Every audited order whose id or key is ``order`` (an id may name an order and a ticket alike)."""
    with psycopg.connect(database_url) as conn:
        verdicts = conn.execute(
            """select order_key, motif, suspended_on, is_compliant, is_review_needed, review_reason,
                      reasons_text, decided_by
               from marts.order_compliance where order_id = %(o)s or order_key = %(o)s
               order by order_key""",
            {"o": order},
        ).fetchall()
        if not verdicts:
            raise NotFound(f"no audited order {order!r} in marts.order_compliance (an order id or type:id)")
        rows = conn.execute(
            """select order_key, rule, call_id, attempt_number, started_at, related_call_id,
                      evidence_start_s, evidence_end_s, detail, transcript_redacted
               from marts.verdict_evidence where order_key = any(%s)
               order by order_key, array_position(array['branch', 'attempts', 'gap', 'outcome',
                        'duplicate'], rule), attempt_number nulls first""",
            [[v[0] for v in verdicts]],
        ).fetchall()
    evidence: dict[str, list[Evidence]] = {}
    for key, *fields in rows:
        evidence.setdefault(key, []).append(Evidence(*fields))
    return [
        Explanation(key, motif, day, compliant, review, why, reasons, by, tuple(evidence.get(key, ())))
        for key, motif, day, compliant, review, why, reasons, by in verdicts
    ]


def clip(
    database_url: str, settings: Settings, call_id: str, start_s: float, end_s: float | None, out: Path
) -> tuple[Path, float]:
    """Write seconds ``start_s`` to ``end_s`` (None: the end) of call ``call_id``'s recording to ``out``
    (WAV, the recording's rate and channels); returns the path and the seconds written."""
    if start_s < 0 or (end_s is not None and end_s <= start_s):
        raise ValueError(f"--start {start_s} --end {end_s}: the excerpt needs 0 <= start < end")
    with psycopg.connect(database_url) as conn:
        found = conn.execute(
            """select f.audio_root, f.audio_path, f.etag, f.size_bytes
               from raw.calls c join raw.audio_files f on f.audio_path = c.audio_path
               where c.call_id = %s limit 1""",
            [call_id],
        ).fetchone()
    if found is None:
        raise NotFound(f"no recording loaded for call {call_id!r} (raw.calls joined to raw.audio_files)")
    root, audio_path, etag, size = found
    local = AudioRoots(settings).local_path(root, audio_path, etag, size)
    with soundfile.SoundFile(str(local)) as fh:
        rate = fh.samplerate
        first = int(round(start_s * rate))
        if first >= fh.frames:
            raise ValueError(f"--start {start_s}: the recording {audio_path} lasts {fh.frames / rate:.2f} s")
        last = fh.frames if end_s is None else min(fh.frames, int(round(end_s * rate)))
        fh.seek(first)
        samples = fh.read(last - first, dtype="float32", always_2d=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(out), samples, rate, subtype="PCM_16", format="WAV")
    return out, (last - first) / rate
