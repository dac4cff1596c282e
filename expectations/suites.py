"""The suites, as data: one per table, each expectation a GX class name and its arguments.

Row counts are checked against the table's input (what the loader recorded, or the audited orders of the
manifests); those values are known only at run time and come from ``expectations.checkpoint.input_counts``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ORDER_TYPES = ["ACQUISITION", "SAV"]
OFFERS = ["ADSL", "VULA"]
E164 = r"^[1-9][0-9]{7,14}$"
NO_EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
NO_LONG_NUMBER = r"[0-9]{8,}"

# The BI marts (dashboards). GX has no expectation comparing a column's sum with another table's count: those
# relations are SQL queries returning a row when the two differ (UnexpectedRowsExpectation).
HEARD_OUTCOMES = ["answered", "voicemail", "no_answer", "unreachable", "not_analysed"]

# Rule 4 never accuses on weak evidence: an order in review for it has its reason and no rule-4 verdict;
# rule 2 is undecided only for an order in review with a quarantined call record of its client; and the
# verdict is false only for a failed rule (a rule undecided for review never makes an order non-compliant).
REVIEW_WITHOUT_REASON_OR_WITH_VERDICT = (
    "select order_key from {batch} "
    "where needs_review <> (review_reason is not null) "
    "or (needs_review and quarantined_call_records = 0 and outcome_ok is not null)"
)
ATTEMPTS_UNDECIDED_WITHOUT_CAUSE = (
    "select order_key from {batch} "
    "where attempts_ok is null and (quarantined_call_records = 0 or not needs_review)"
)
VERDICT_NOT_FROM_RULES = (
    "select order_key from {batch} where compliant <> "
    "(branch_ok and attempts_ok is not false and gap_ok and outcome_ok is not false and duplicate_ok)"
)

BRANCH_DAY_CALLS_DIFFER = (
    "select called_on, branch from {batch} group by called_on, branch "
    "having sum(calls) <> min(branch_day_calls) or min(branch_day_calls) <> max(branch_day_calls)"
)


def _total_differs(total: str, other: str) -> str:
    """A query returning one row when ``total`` over the batch differs from the scalar query ``other``."""
    return (
        f"select t.total from (select coalesce(sum({total}), 0) as total from {{batch}}) as t "
        f"where t.total <> ({other})"
    )


@dataclass(frozen=True)
class Expect:
    kind: str  # GX expectation class, e.g. "ExpectColumnValuesToBeUnique"
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Suite:
    schema: str
    table: str
    expectations: list[Expect]
    row_count_from: str | None = None  # key of input_counts() the table's row count must equal
    row_count_at_least: str | None = None  # key of input_counts() the row count must reach

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"


SUITES: list[Suite] = [
    Suite(
        "raw",
        "manifest_rows",
        [
            Expect("ExpectColumnValuesToNotBeNull", {"column": "order_id"}),
            Expect("ExpectColumnValuesToBeInSet", {"column": "order_type", "value_set": ORDER_TYPES}),
            Expect("ExpectColumnValuesToBeInSet", {"column": "offer", "value_set": OFFERS}),
            Expect("ExpectColumnValuesToMatchRegex", {"column": "client_number", "regex": E164}),
            Expect(
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {"column_A": "suspended_on", "column_B": "ordered_on", "or_equal": True},
            ),
            Expect("ExpectCompoundColumnsToBeUnique", {"column_list": ["source_path", "row_number"]}),
        ],
        row_count_from="manifest_rows",
    ),
    Suite(
        "raw",
        "calls",
        [
            Expect("ExpectColumnValuesToBeUnique", {"column": "call_id"}),
            Expect("ExpectColumnValuesToNotBeNull", {"column": "branch"}),
            Expect("ExpectColumnValuesToMatchRegex", {"column": "client_number", "regex": E164}),
            Expect("ExpectColumnValuesToMatchRegex", {"column": "caller_number", "regex": E164}),
            Expect(
                "ExpectColumnValuesToBeBetween", {"column": "duration_s", "min_value": 0, "max_value": 86_400}
            ),
        ],
        row_count_from="calls",
    ),
    Suite(
        "raw",
        "audio_files",
        [
            Expect("ExpectColumnValuesToBeUnique", {"column": "audio_path"}),
            Expect("ExpectColumnValuesToMatchRegex", {"column": "sha256", "regex": r"^[0-9a-f]{64}$"}),
            Expect(
                "ExpectColumnValuesToBeBetween",
                {"column": "sample_rate", "min_value": 4_000, "max_value": 192_000},
            ),
            Expect("ExpectColumnValuesToBeBetween", {"column": "channels", "min_value": 1, "max_value": 8}),
            Expect("ExpectColumnValuesToBeBetween", {"column": "duration_s", "min_value": 0}),
        ],
        row_count_from="audio_files",
    ),
    Suite(
        "raw",
        "audio_analysis",
        [
            Expect("ExpectCompoundColumnsToBeUnique", {"column_list": ["sha256", "detector_version"]}),
            Expect(
                "ExpectColumnValuesToBeInSet",
                {"column": "outcome", "value_set": ["answered", "voicemail", "no_answer", "unreachable"]},
            ),
            Expect(
                "ExpectColumnValuesToBeBetween",
                {"column": "outcome_confidence", "min_value": 0, "max_value": 1},
            ),
            Expect(
                "ExpectColumnValuesToBeBetween", {"column": "ring_bursts", "min_value": 0, "max_value": 60}
            ),
            Expect("ExpectColumnValuesToBeBetween", {"column": "speech_onset_s", "min_value": 0}),
        ],
        row_count_at_least="recordings",
    ),
    Suite(
        "raw",
        "audio_tones",
        [
            Expect(
                "ExpectColumnValuesToBeInSet",
                {"column": "kind", "value_set": ["ring", "voicemail_beep", "sit"]},
            ),
            Expect("ExpectColumnPairValuesAToBeGreaterThanB", {"column_A": "end_s", "column_B": "start_s"}),
            Expect(
                "ExpectColumnValuesToBeBetween",
                {"column": "frequency_hz", "min_value": 300, "max_value": 2000},
            ),
        ],
    ),
    Suite(
        "raw",
        "transcripts",
        [
            Expect(
                "ExpectCompoundColumnsToBeUnique",
                {"column_list": ["sha256", "model_id", "chunking_id", "channel"]},
            ),
            Expect(
                "ExpectColumnValuesToBeInSet",
                {"column": "channel", "value_set": ["mix", "agent", "customer", "dialogue"]},
            ),
            Expect("ExpectColumnValuesToBeBetween", {"column": "confidence", "min_value": 0, "max_value": 1}),
            Expect("ExpectColumnValuesToNotBeNull", {"column": "text"}),
        ],
    ),
    Suite(
        "raw",
        "transcript_segments",
        [
            Expect(
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {"column_A": "end_s", "column_B": "start_s", "or_equal": True},
            ),
            Expect("ExpectColumnValuesToBeBetween", {"column": "start_s", "min_value": 0}),
        ],
    ),
    Suite(
        "raw",
        "redacted_transcripts",
        [
            Expect(
                "ExpectCompoundColumnsToBeUnique",
                {"column_list": ["sha256", "asr_model_id", "chunking_id", "channel", "redactor_version"]},
            ),
            Expect("ExpectColumnValuesToNotBeNull", {"column": "text"}),
            # leak guards: no e-mail address, no run of 8+ digits (a phone, an id) survives redaction
            Expect("ExpectColumnValuesToNotMatchRegex", {"column": "text", "regex": NO_EMAIL}),
            Expect("ExpectColumnValuesToNotMatchRegex", {"column": "text", "regex": NO_LONG_NUMBER}),
            Expect("ExpectColumnValuesToBeBetween", {"column": "entities", "min_value": 0}),
        ],
        row_count_at_least="transcripts",
    ),
    Suite(
        "raw",
        "llm_calls",
        [
            Expect(
                "ExpectCompoundColumnsToBeUnique", {"column_list": ["request_key", "model", "prompt_version"]}
            ),
            Expect(
                "ExpectColumnValuesToBeInSet", {"column": "status", "value_set": ["ok", "invalid", "failed"]}
            ),
            Expect("ExpectColumnValuesToBeBetween", {"column": "tokens_in", "min_value": 0}),
            Expect(
                "ExpectColumnValuesToBeBetween", {"column": "attempts", "min_value": 0, "max_value": 1000}
            ),
            Expect("ExpectColumnValuesToBeBetween", {"column": "cost_usd", "min_value": 0}),
        ],
    ),
    Suite(
        "raw",
        "classifications",
        [
            Expect("ExpectCompoundColumnsToBeUnique", {"column_list": ["sha256", "model", "prompt_version"]}),
            Expect("ExpectColumnValuesToBeInSet", {"column": "call_type", "value_set": [0, 1, 2, 3, 4]}),
            Expect("ExpectColumnValuesToBeInSet", {"column": "behavior", "value_set": [0, 1]}),
            Expect(
                "ExpectColumnValuesToBeInSet",
                {"column": "sentiment", "value_set": ["negative", "neutral", "positive"]},
            ),
            Expect("ExpectColumnValuesToNotBeNull", {"column": "is_trusted"}),
            Expect("ExpectColumnValuesToNotMatchRegex", {"column": "summary", "regex": NO_EMAIL}),
        ],
    ),
    Suite(
        "raw",
        "transcript_embeddings",
        [
            Expect("ExpectCompoundColumnsToBeUnique", {"column_list": ["sha256", "model"]}),
            Expect("ExpectColumnValuesToBeInSet", {"column": "dimension", "value_set": [384]}),
            Expect("ExpectColumnValuesToMatchRegex", {"column": "text_hash", "regex": r"^[0-9a-f]{64}$"}),
        ],
    ),
    Suite(
        "marts",
        "order_compliance",
        [
            Expect("ExpectColumnValuesToBeUnique", {"column": "order_key"}),
            Expect("ExpectColumnValuesToBeInSet", {"column": "order_type", "value_set": ORDER_TYPES}),
            Expect("ExpectColumnValuesToBeInSet", {"column": "offer", "value_set": OFFERS}),
            Expect("ExpectColumnValuesToNotBeNull", {"column": "branch_ok"}),
            Expect("UnexpectedRowsExpectation", {"unexpected_rows_query": ATTEMPTS_UNDECIDED_WITHOUT_CAUSE}),
            Expect("ExpectColumnValuesToNotBeNull", {"column": "gap_ok"}),
            Expect("ExpectColumnValuesToNotBeNull", {"column": "compliant"}),
            Expect("ExpectColumnValuesToBeBetween", {"column": "attempts", "min_value": 0}),
            Expect(
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {"column_A": "attempts", "column_B": "counted_attempts", "or_equal": True},
            ),
            Expect("ExpectColumnValuesToNotBeNull", {"column": "duplicate_ok"}),
            Expect("ExpectColumnValuesToNotBeNull", {"column": "needs_review"}),
            Expect(
                "UnexpectedRowsExpectation",
                {"unexpected_rows_query": REVIEW_WITHOUT_REASON_OR_WITH_VERDICT},
            ),
            Expect("UnexpectedRowsExpectation", {"unexpected_rows_query": VERDICT_NOT_FROM_RULES}),
        ],
        row_count_from="audited_orders",
    ),
    Suite(
        "marts",
        "call_attempts",
        [
            Expect("ExpectColumnValuesToBeUnique", {"column": "attempt_key"}),
            Expect("ExpectColumnValuesToBeBetween", {"column": "attempt_number", "min_value": 1}),
            Expect("ExpectColumnValuesToBeBetween", {"column": "gap_minutes", "min_value": 0}),
            Expect("ExpectColumnValuesToNotBeNull", {"column": "is_expected_branch"}),
            Expect(
                "ExpectColumnValuesToBeInSet",
                {"column": "outcome", "value_set": ["answered", "voicemail", "no_answer", "unreachable"]},
            ),
            Expect("ExpectColumnValuesToNotMatchRegex", {"column": "transcript_redacted", "regex": NO_EMAIL}),
            Expect(
                "ExpectColumnValuesToNotMatchRegex",
                {"column": "transcript_redacted", "regex": NO_LONG_NUMBER},
            ),
        ],
    ),
    Suite(
        "marts",
        "verdict_evidence",
        [
            # the words shown as proof are redacted like the transcripts they come from (PII scan)
            Expect("ExpectColumnValuesToNotMatchRegex", {"column": "transcript_redacted", "regex": NO_EMAIL}),
            Expect(
                "ExpectColumnValuesToNotMatchRegex",
                {"column": "transcript_redacted", "regex": NO_LONG_NUMBER},
            ),
            Expect(
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {
                    "column_A": "evidence_end_s",
                    "column_B": "evidence_start_s",
                    "ignore_row_if": "either_value_is_missing",
                },
            ),
        ],
    ),
    Suite(
        "marts",
        "call_conversations",
        [
            Expect(
                "ExpectColumnValuesToBeBetween",
                {"column": "agent_talk_share", "min_value": 0, "max_value": 1},
            ),
            Expect(
                "ExpectColumnValuesToBeBetween", {"column": "non_talk_share", "min_value": 0, "max_value": 1}
            ),
            Expect("ExpectColumnValuesToBeBetween", {"column": "longest_silence_s", "min_value": 0}),
            # one stretch of voice never lasts longer than the time from the first to the last word
            Expect(
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {
                    "column_A": "last_word_s",
                    "column_B": "first_word_s",
                    "ignore_row_if": "either_value_is_missing",
                },
            ),
        ],
        row_count_from="analysed_calls",  # every call whose recording was analysed, speech or not
    ),
    Suite(
        "marts",
        "technician_scorecards",
        [
            Expect(
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {"column_A": "orders", "column_B": "compliant_orders", "or_equal": True},
            ),
            # every audited order someone called is on exactly one scorecard
            Expect(
                "UnexpectedRowsExpectation",
                {
                    "unexpected_rows_query": (
                        "select 1 from (select sum(orders) as n from {batch}) s "
                        "where n <> (select count(*) from marts.order_compliance where attempts > 0)"
                    )
                },
            ),
        ],
    ),
    Suite(
        "marts",
        "similar_calls",
        [
            Expect("ExpectColumnValuesToBeUnique", {"column": "pair_key"}),
            Expect(
                "ExpectColumnValuesToBeBetween", {"column": "similarity", "min_value": 0, "max_value": 1.0001}
            ),
        ],
    ),
    Suite(
        "marts",
        "daily_compliance",
        [
            Expect("ExpectColumnValuesToBeUnique", {"column": "daily_compliance_key"}),
            Expect("ExpectColumnValuesToNotBeNull", {"column": "daily_compliance_key"}),
            Expect("ExpectColumnValuesToBeBetween", {"column": "orders", "min_value": 1}),
            Expect("ExpectColumnValuesToBeBetween", {"column": "compliant_orders", "min_value": 0}),
            Expect(
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {"column_A": "orders", "column_B": "compliant_orders", "or_equal": True},
            ),
            Expect(
                "ExpectColumnValuesToBeBetween", {"column": "compliant_pct", "min_value": 0, "max_value": 100}
            ),
            Expect(
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {"column_A": "attempts", "column_B": "duplicate_attempts", "or_equal": True},
            ),
            # every audited order is counted in exactly one row: the rows add up to order_compliance
            Expect(
                "UnexpectedRowsExpectation",
                {
                    "unexpected_rows_query": _total_differs(
                        "orders", "select count(*) from marts.order_compliance"
                    )
                },
            ),
            Expect(
                "UnexpectedRowsExpectation",
                {
                    "unexpected_rows_query": _total_differs(
                        "compliant_orders", "select count(*) from marts.order_compliance where compliant"
                    )
                },
            ),
        ],
    ),
    Suite(
        "marts",
        "daily_call_outcomes",
        [
            Expect("ExpectColumnValuesToBeUnique", {"column": "call_outcome_key"}),
            Expect("ExpectColumnValuesToNotBeNull", {"column": "call_outcome_key"}),
            Expect("ExpectColumnValuesToNotBeNull", {"column": "outcome"}),
            Expect("ExpectColumnValuesToBeInSet", {"column": "outcome", "value_set": HEARD_OUTCOMES}),
            Expect("ExpectColumnValuesToBeBetween", {"column": "calls", "min_value": 1}),
            Expect(
                "ExpectColumnValuesToBeBetween", {"column": "calls_pct", "min_value": 0, "max_value": 100}
            ),
            Expect(
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {"column_A": "branch_day_calls", "column_B": "calls", "or_equal": True},
            ),
            # a branch's outcomes that day add up to its calls that day (the share's denominator)
            Expect(
                "UnexpectedRowsExpectation",
                {"unexpected_rows_query": BRANCH_DAY_CALLS_DIFFER},
            ),
            # every call record counts once
            Expect(
                "UnexpectedRowsExpectation",
                {"unexpected_rows_query": _total_differs("calls", "select count(*) from raw.calls")},
            ),
        ],
    ),
    Suite(
        "marts",
        "attempt_timelines",
        [
            Expect("ExpectColumnValuesToBeUnique", {"column": "attempt_key"}),
            Expect("ExpectColumnValuesToNotBeNull", {"column": "attempt_key"}),
            # the same rows as call_attempts: every attempt is of an audited order
            Expect("ExpectTableRowCountToEqualOtherTable", {"other_table_name": "call_attempts"}),
            Expect("ExpectColumnValuesToNotBeNull", {"column": "minutes_since_first"}),
            Expect("ExpectColumnValuesToBeBetween", {"column": "minutes_since_first", "min_value": 0}),
            Expect("ExpectColumnValuesToBeBetween", {"column": "minutes_since_previous", "min_value": 0}),
            Expect(
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {
                    "column_A": "minutes_since_first",
                    "column_B": "minutes_since_previous",
                    "or_equal": True,
                    "ignore_row_if": "either_value_is_missing",
                },
            ),
            Expect(
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {
                    "column_A": "attempt_number",
                    "column_B": "counted_attempt_number",
                    "or_equal": True,
                    "ignore_row_if": "either_value_is_missing",
                },
            ),
        ],
    ),
]
