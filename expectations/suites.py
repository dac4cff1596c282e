"""The suites, as data: one per table, each expectation a GX class name and its arguments.

GX checks only what dbt cannot: a table's row count against its input (what the loader recorded in
``ops.source_files`` and ``ops.rejects``, the audited orders of the manifests, the recordings analysed or
transcribed: values known only at run time, from ``expectations.checkpoint.input_counts``) and PII scans of
the text columns that must carry redacted text only; its Data Docs show both. Every invariant that is SQL
(keys, not-null, accepted values, ranges, formats, one column against another, one model against another)
is a dbt test or contract in ``dbt_project/``, and the keys, NOT NULL and CHECK constraints of ``sql/``
guard the raw tables; none is repeated here. A table with nothing of that kind has no suite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# PII scans: no e-mail address and no run of 8+ digits (a phone number, an id) survives redaction.
NO_EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
NO_LONG_NUMBER = r"[0-9]{8,}"


@dataclass(frozen=True)
class Expect:
    kind: str  # GX expectation class, e.g. "ExpectColumnValuesToNotMatchRegex"
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Suite:
    schema: str
    table: str
    expectations: list[Expect] = field(default_factory=list)
    row_count_from: str | None = None  # key of input_counts() the table's row count must equal
    row_count_at_least: str | None = None  # key of input_counts() the row count must reach

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"


def _no_pii(column: str, *, long_numbers: bool = True) -> list[Expect]:
    """The PII scan of a redacted text column: no e-mail address and (unless told) no long number."""
    scans = [Expect("ExpectColumnValuesToNotMatchRegex", {"column": column, "regex": NO_EMAIL})]
    if long_numbers:
        scans.append(Expect("ExpectColumnValuesToNotMatchRegex", {"column": column, "regex": NO_LONG_NUMBER}))
    return scans


SUITES: list[Suite] = [
    # Row counts against the loader's records (ops.source_files, ops.rejects): every loaded row, no other.
    Suite("raw", "manifest_rows", row_count_from="manifest_rows"),
    Suite("raw", "calls", row_count_from="calls"),
    Suite("raw", "audio_files", row_count_from="audio_files"),  # calls' recordings not rejected
    Suite("raw", "audio_analysis", row_count_at_least="recordings"),  # analysable recordings
    # Redacted text: the PII scan, and at least one redacted row per transcript.
    Suite("raw", "redacted_transcripts", _no_pii("text"), row_count_at_least="transcripts"),
    Suite("raw", "classifications", _no_pii("summary", long_numbers=False)),
    # The marts: each audited order once, each analysed call once, and only redacted words.
    Suite("marts", "order_compliance", row_count_from="audited_orders"),
    Suite("marts", "call_attempts", _no_pii("transcript_redacted")),
    Suite("marts", "verdict_evidence", _no_pii("transcript_redacted")),  # the words shown as proof
    Suite("marts", "call_qa_items", _no_pii("evidence_words")),  # the words that meet a QA item
    Suite("marts", "call_conversations", row_count_from="analysed_calls"),
]
