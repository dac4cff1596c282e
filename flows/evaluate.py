"""`callaudit evaluate LABELLED_DIR`: how right the pipeline was on a set whose truth is known.

``LABELLED_DIR`` is a data set in the input contract with a ``truth/`` folder in the generator's format
(``truth/orders.csv``: each order's expected rules and verdict; ``truth/calls.csv``: each call's outcome,
call type, tones, onset and transcript) — what ``callaudit synth`` writes, and what a team writes for calls
it labelled by hand. After the daily flow has audited that set, this reads the warehouse and scores the
pipeline's own output against the truth:

- per rule, the verdicts that agree, and for rule 4 (which may stay undecided) right / in review / wrong
  per motif, the precision of ``outcome ✗`` and the share of orders a person must review;
- per call, the audio outcome (answered, voicemail, no answer, unreachable) with its confusion matrix,
  the call type of answered calls (all, and those trusted as evidence), and the word and character error
  rates of the whole-call transcripts, overall and per recording condition;
- per answered call, the conversation measures of ``marts.call_conversations`` (talk seconds per party,
  longest silence, interruptions) against the utterances the truth placed (``speech_spans``), and each QA
  item of ``marts.call_qa_items`` (met, not met, not applicable) against the truth's (``qa_items``).

It prints tables, writes the figures as JSON, and publishes them as a Prefect artifact on its flow run. The
README's accuracy figures and ``benchmarks/speech_understanding.py`` come from :func:`score`.
"""

from __future__ import annotations

import csv
import json
import statistics
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import psycopg
from prefect import flow, get_run_logger

from inference.asr_model import error_rates

RULES = ("branch_ok", "attempts_ok", "gap_ok", "duplicate_ok", "outcome_ok", "compliant")
TALK_TOLERANCE_S = 0.3  # a conversation measure within this of the truth counts as right
INTERRUPTION_MIN_TALK_S = 0.3  # dbt var interruption_min_talk_s


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _truth_bool(value: str) -> bool | None:
    return {"true": True, "false": False}.get(value.strip().lower())


def _snr_band(snr: str) -> str:
    value = float(snr)
    return "snr<15" if value < 15 else "snr15-25" if value < 25 else "snr>=25"


def conditions(call: dict[str, str]) -> list[str]:
    """The recording conditions a truth call belongs to: rate, codec, channels, SNR band."""
    codec = "ulaw" if call["subtype"] == "ULAW" else call["format"].lower()
    return [f"{int(call['sample_rate']) // 1000}kHz", codec, "stereo" if call["channels"] == "2" else "mono",
            _snr_band(call["snr_db"])]  # fmt: skip


def _verdicts(truth_orders: dict[str, dict[str, str]], rows: list[dict[str, Any]]) -> dict[str, Any]:
    per_rule: dict[str, Counter] = {rule: Counter() for rule in RULES}
    per_motif: dict[str, Counter] = defaultdict(Counter)
    rules_1_to_3 = review = 0
    for row in rows:
        truth = truth_orders.get(row["order_id"])
        if truth is None:
            continue
        for rule in RULES:
            expected, got = _truth_bool(truth[rule]), row[rule]
            per_rule[rule]["orders"] += 1
            per_rule[rule]["undecided" if got is None else "right" if got is expected else "wrong"] += 1
        rules_1_to_3 += all(row[r] is _truth_bool(truth[r]) for r in ("branch_ok", "attempts_ok", "gap_ok"))
        motif = per_motif[row["motif_key"] or "(unknown)"]
        motif["orders"] += 1
        got = row["outcome_ok"]
        motif[
            "in review" if got is None else "right" if got is _truth_bool(truth["outcome_ok"]) else "wrong"
        ] += 1
        review += bool(row["needs_review"])
    orders = per_rule["compliant"]["orders"]
    fails = [r for r in rows if r["outcome_ok"] is False and r["order_id"] in truth_orders]
    fails_right = sum(_truth_bool(truth_orders[r["order_id"]]["outcome_ok"]) is False for r in fails)
    return {
        "audited_orders": orders,
        "rules": {rule: dict(c) for rule, c in per_rule.items()},
        "rules_1_to_3_right": rules_1_to_3,
        "outcome_by_motif": {m: dict(c) for m, c in sorted(per_motif.items())},
        "outcome_fails": len(fails),
        "outcome_fail_precision": ratio(fails_right, len(fails)),
        "needs_review_share": ratio(review, orders),
        "compliant_agreement": ratio(per_rule["compliant"]["right"], orders),
    }


def _calls(truth_calls: dict[str, dict[str, str]], rows: list[dict[str, Any]]) -> dict[str, Any]:
    outcomes: Counter = Counter()
    call_types: list[tuple[int, int | None, bool]] = []
    by_condition: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for row in rows:
        truth = truth_calls.get(row["call_id"])
        if truth is None or truth["duplicate_of"]:
            continue  # a reused recording is scored once, under its original call
        outcomes[(truth["outcome"], row["outcome"] or "not analysed")] += 1
        if truth["transcript"]:
            for key in ["all", *conditions(truth)]:
                refs, hyps = by_condition[key]
                refs.append(truth["transcript"])
                hyps.append(row["text"] or "")
        if truth["outcome"] == "answered":
            trusted_now = bool(row["is_classification_trusted"])
            call_types.append((int(truth["intent"]), row["call_type"], trusted_now))
    trusted = [(t, p) for t, p, ok in call_types if ok]
    return {
        "calls": sum(outcomes.values()),
        "outcome_accuracy": ratio(sum(n for (t, p), n in outcomes.items() if t == p), sum(outcomes.values())),
        "outcome_confusion": {f"{t}->{p}": n for (t, p), n in sorted(outcomes.items())},
        "call_type": {
            "answered_calls": len(call_types),
            "accuracy": ratio(sum(t == p for t, p, _ in call_types), len(call_types)),
            "trusted_share": ratio(len(trusted), len(call_types)),
            "trusted_accuracy": ratio(sum(t == p for t, p in trusted), len(trusted)),
            "confusion": {
                f"{t}->{p}": n
                for (t, p), n in sorted(Counter((t, p) for t, p, _ in call_types).items(), key=str)
            },
        },
        "speech": {key: error_rates(refs, hyps) for key, (refs, hyps) in sorted(by_condition.items())},
    }


def _truth_talk(call: dict[str, str]) -> tuple[dict[int, float], float, int]:
    """From truth speech_spans after the speech onset: seconds per party, the longest silence between two
    stretches of voice, and interruptions (a party starts while the other has talked for at least
    INTERRUPTION_MIN_TALK_S) — what marts.call_conversations measures."""
    onset = float(call["speech_onset_s"])
    spans = [(s, e, p) for s, e, p in json.loads(call.get("speech_spans") or "[]") if s >= onset - 1e-6]
    talk: dict[int, float] = defaultdict(float)
    for s, e, p in spans:
        talk[p] += e - s
    stretches: list[list[float]] = []
    for s, e, _ in sorted(spans):
        if stretches and s <= stretches[-1][1]:
            stretches[-1][1] = max(stretches[-1][1], e)
        else:
            stretches.append([s, e])
    longest = max((b[0] - a[1] for a, b in zip(stretches, stretches[1:], strict=False)), default=0.0)
    interruptions = sum(
        1 for s, _, p in spans for s2, e2, p2 in spans if p2 != p and s2 + INTERRUPTION_MIN_TALK_S <= s < e2
    )
    return dict(talk), longest, interruptions


def _conversations(truth_calls: dict[str, dict[str, str]], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Talk seconds per party (stereo) or together (mono), longest silence and interruptions of answered
    calls, against the truth: the share within TALK_TOLERANCE_S (exact for interruptions)."""
    talk_errors: dict[str, list[float]] = {"stereo": [], "mono": []}  # stereo: one per party
    silence_errors, interruptions_exact = [], []
    for row in rows:
        truth = truth_calls.get(row["call_id"])
        if truth is None or truth["duplicate_of"] or truth["outcome"] != "answered" or not row["has_speech"]:
            continue
        if not truth.get("speech_spans"):  # a set labelled without utterance times: nothing to compare
            continue
        talk, longest, interruptions = _truth_talk(truth)
        if row["is_stereo"]:
            talk_errors["stereo"].append(abs(float(row["agent_talk_s"]) - talk.get(0, 0.0)))
            talk_errors["stereo"].append(abs(float(row["customer_talk_s"]) - talk.get(1, 0.0)))
            interruptions_exact.append(row["interruptions"] == interruptions)
        else:
            talk_errors["mono"].append(abs(float(row["talk_s"]) - sum(talk.values())))
        silence_errors.append(abs(float(row["longest_silence_s"]) - longest))

    def within(errors: list[float]) -> float | None:
        return ratio(sum(e <= TALK_TOLERANCE_S for e in errors), len(errors))

    def median(errors: list[float]) -> float | None:
        return round(statistics.median(errors), 3) if errors else None

    return {
        "answered_calls": len(silence_errors),
        "talk_within_tolerance": within(talk_errors["stereo"] + talk_errors["mono"]),
        "talk_median_error_s": median(talk_errors["stereo"] + talk_errors["mono"]),
        # per layout: a stereo call's parties are told apart; a mono mix's pauses inside a turn and
        # between two people's turns are alike (call_conversations, mono_turn_pause_max_s)
        "talk_within_tolerance_stereo": within(talk_errors["stereo"]),
        "talk_within_tolerance_mono": within(talk_errors["mono"]),
        "longest_silence_within_tolerance": within(silence_errors),
        "longest_silence_median_error_s": median(silence_errors),
        "interruptions_exact": ratio(sum(interruptions_exact), len(interruptions_exact)),
        "stereo_calls": len(interruptions_exact),
        "tolerance_s": TALK_TOLERANCE_S,
    }


def score(database_url: str, labelled: Path) -> dict[str, Any]:
    """The pipeline's output in the warehouse scored against ``labelled``'s truth (see the module doc)."""
    truth_orders = {
        o["order_id"]: o for o in read_csv(labelled / "truth" / "orders.csv") if o["audited"] == "true"
    }
    truth_calls = {c["call_id"]: c for c in read_csv(labelled / "truth" / "calls.csv")}
    with psycopg.connect(database_url, row_factory=psycopg.rows.dict_row) as conn:
        orders = conn.execute(
            # the truth's names for the mart's columns (is_branch_ok → branch_ok, …)
            f"select order_id, motif_key, is_review_needed as needs_review, "
            f"{', '.join(f'is_{rule} as {rule}' for rule in RULES)} from marts.order_compliance"
        ).fetchall()
        calls = conn.execute(
            """select a.call_id, a.outcome, a.call_type, a.is_classification_trusted, t.text
               from marts.call_attempts a
               left join raw.current_transcripts t on t.sha256 = a.audio_sha256"""
        ).fetchall()
        conversations = conn.execute("select * from marts.call_conversations").fetchall()
        qa_items = conn.execute("select call_id, item_key, qa_status from marts.call_qa_items").fetchall()
    return {
        "labelled": str(labelled),
        "verdicts": _verdicts(truth_orders, orders),
        **_calls(truth_calls, calls),
        "conversations": _conversations(truth_calls, conversations),
        "qa_items": _qa_items(truth_calls, qa_items),
    }


def _qa_items(truth_calls: dict[str, dict[str, str]], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per QA item, how often the scorecard's status (met, not_met, not_applicable) is the truth's, over the
    answered calls that have both (a set labelled without QA items scores none)."""
    pairs: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in rows:
        truth = truth_calls.get(row["call_id"])
        if truth is None or truth["duplicate_of"] or not truth.get("qa_items"):
            continue
        expected = json.loads(truth["qa_items"]).get(row["item_key"])
        if expected is not None:
            pairs[row["item_key"]].append((expected, row["qa_status"]))
    return {
        item: {
            "calls": len(seen),
            "agreement": ratio(sum(e == p for e, p in seen), len(seen)),
            "met_in_truth": sum(e == "met" for e, _ in seen),
            "met_found": sum(e == p == "met" for e, p in seen),
            "not_met_in_truth": sum(e == "not_met" for e, _ in seen),
            "not_met_found": sum(e == p == "not_met" for e, p in seen),
        }
        for item, seen in sorted(pairs.items())
    }


def pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def report_markdown(results: dict[str, Any]) -> str:
    """The figures as the markdown of the Prefect artifact."""
    v, ct = results["verdicts"], results["call_type"]
    lines = [
        f"# Accuracy on {results['labelled']}",
        "",
        f"{v['audited_orders']} audited orders; rules 1–3 right for {v['rules_1_to_3_right']}; "
        f"`compliant` agrees for {pct(v['compliant_agreement'])}; {pct(v['needs_review_share'])} in review; "
        f"`outcome ✗` right {pct(v['outcome_fail_precision'])} of {v['outcome_fails']}.",
        "",
        "| rule | right | wrong | undecided |",
        "|---|---:|---:|---:|",
        *(
            f"| {r} | {c.get('right', 0)} | {c.get('wrong', 0)} | {c.get('undecided', 0)} |"
            for r, c in v["rules"].items()
        ),
        "",
        "| rule 4 by motif | orders | right | in review | wrong |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {m} | {c.get('orders', 0)} | {c.get('right', 0)} | {c.get('in review', 0)} "
            f"| {c.get('wrong', 0)} |"
            for m, c in v["outcome_by_motif"].items()
        ),
        "",
        f"Audio outcome right for {pct(results['outcome_accuracy'])} of {results['calls']} calls; call type "
        f"right for {pct(ct['accuracy'])} of {ct['answered_calls']} answered calls "
        f"({pct(ct['trusted_share'])} trusted, right {pct(ct['trusted_accuracy'])} when trusted).",
    ]
    conv = results.get("conversations")
    if conv and conv["answered_calls"]:
        lines.append(
            f"Conversation measures of {conv['answered_calls']} answered calls: talk seconds per party "
            f"within {conv['tolerance_s']} s for {pct(conv['talk_within_tolerance'])} (median error "
            f"{conv['talk_median_error_s']} s; stereo, per party: "
            f"{pct(conv['talk_within_tolerance_stereo'])}, mono: {pct(conv['talk_within_tolerance_mono'])}), "
            f"longest silence within {conv['tolerance_s']} s for "
            f"{pct(conv['longest_silence_within_tolerance'])}, interruptions exact for "
            f"{pct(conv['interruptions_exact'])} of {conv['stereo_calls']} stereo calls."
        )
    qa = results.get("qa_items")
    if qa:
        lines.append(
            "QA items, agreement with the truth on answered calls: "
            + ", ".join(
                f"{item} {pct(v['agreement'])} (met {v['met_found']}/{v['met_in_truth']}, "
                f"not met {v['not_met_found']}/{v['not_met_in_truth']})"
                for item, v in qa.items()
            )
            + f" — of {max(v['calls'] for v in qa.values())} calls."
        )
    speech = results["speech"].get("all")
    if speech:
        lines.append(
            f"Whole-call transcripts: WER {pct(speech['wer'])}, CER {pct(speech['cer'])} "
            f"(n={int(speech['n'])})."
        )
    return "\n".join(lines)


@flow(name="evaluate", log_prints=True)
def evaluate(labelled_dir: str, out: str) -> dict[str, Any]:
    """Score the warehouse against a labelled set: the figures as JSON in ``out``, an artifact in the UI."""
    from prefect.artifacts import create_markdown_artifact

    from warehouse.db import ready_database

    results = score(ready_database(), Path(labelled_dir))
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(results, indent=2), encoding="utf-8")
    create_markdown_artifact(
        key="accuracy", markdown=report_markdown(results), description="Accuracy on a labelled set"
    )
    get_run_logger().info("evaluate: %d orders, figures in %s", results["verdicts"]["audited_orders"], out)
    return results
