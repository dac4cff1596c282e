"""The proof behind verdicts (marts.verdict_evidence), ``callaudit explain`` and ``callaudit clip``, and the
conversation measures (marts.call_conversations), on the session's shared warehouse (read-only)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import psycopg
import pytest
import soundfile

from flows.explain import NotFound, clip, explain

RULES = ("branch", "attempts", "gap", "outcome", "duplicate")


@pytest.fixture(scope="module")
def evidence(warehouse_url: str) -> dict[tuple[str, str], list[dict]]:
    """Evidence rows by (order_key, rule)."""
    with psycopg.connect(warehouse_url) as conn:
        cur = conn.execute("select * from marts.verdict_evidence")
        names = [d.name for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    found: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        found.setdefault((row["order_key"], row["rule"]), []).append(row)
    return found


def test_every_failed_rule_has_proof_and_nothing_else_has(warehouse_url: str, evidence) -> None:
    with psycopg.connect(warehouse_url) as conn:
        orders = conn.execute(
            """select order_key, is_branch_ok, is_attempts_ok, is_gap_ok, is_outcome_ok, is_duplicate_ok
               from marts.order_compliance"""
        ).fetchall()
    failed = {(key, rule) for key, *oks in orders for rule, ok in zip(RULES, oks, strict=True) if ok is False}
    assert {"branch", "attempts", "gap", "duplicate"} <= {rule for _, rule in failed}, "nothing to prove"
    assert set(evidence) == failed


def test_each_rule_names_the_calls_that_show_it(warehouse_url: str, evidence, synth_set: Path) -> None:
    """Rule 1 the calls from another branch, rule 3 the call too close to the previous attempt, rule 2
    every attempt (a duplicate not counted), a duplicate its original as the generator planted it."""
    with psycopg.connect(warehouse_url) as conn:
        cur = conn.execute(
            """select order_key, call_id, attempt_number, is_expected_branch, gap_minutes, is_duplicate,
                      duplicate_of_call_id
               from marts.call_attempts"""
        )
        attempts = {(r[0], r[1]): r for r in cur.fetchall()}
    with open(synth_set / "truth" / "calls.csv", newline="", encoding="utf-8") as fh:
        truth_original = {r["call_id"]: r["duplicate_of"] for r in csv.DictReader(fh) if r["duplicate_of"]}
    for (order_key, rule), rows in evidence.items():
        calls = {(order_key, r["call_id"]) for r in rows if r["call_id"]}
        order_calls = {k for k in attempts if k[0] == order_key}
        if rule == "branch":
            assert calls == {k for k in order_calls if not attempts[k][3]}
        elif rule == "gap":
            assert calls == {k for k in order_calls if attempts[k][4] is not None and attempts[k][4] < 120}
            for r in rows:
                previous = [k for k in order_calls if attempts[k][2] == r["attempt_number"] - 1]
                assert [r["related_call_id"]] == [attempts[k][1] for k in previous]
        elif rule == "attempts":
            assert calls == order_calls
            for r in rows:
                if r["call_id"]:
                    assert ("not counted" in r["detail"]) == attempts[(order_key, r["call_id"])][5]
            if not order_calls:
                assert rows[0]["detail"].startswith("no call to the client's number")
        elif rule == "duplicate":
            assert calls and calls == {k for k in order_calls if attempts[k][5]}
            assert all(r["related_call_id"] == truth_original[r["call_id"]] for r in rows)


def test_rule_4_proof_gives_the_seconds_and_only_redacted_words(warehouse_url: str, evidence) -> None:
    with psycopg.connect(warehouse_url) as conn:
        spans = {
            call_id: (start_s, end_s)
            for call_id, start_s, end_s in conn.execute(
                """select a.call_id, min(s.start_s), max(s.end_s)
                   from marts.call_attempts a
                   join raw.speech_segments s
                     on s.sha256 = a.audio_sha256 and s.detector_version = a.detector_version
                   group by a.call_id"""
            )
        }
        redacted = {r[0] for r in conn.execute("select text from raw.redacted_transcripts")}
    rows = [r for (_, rule), rs in evidence.items() if rule == "outcome" for r in rs if r["call_id"]]
    if not rows:
        pytest.skip("no rule 4 failure on trusted evidence in this data set")
    for r in rows:
        if r["call_id"] in spans:
            assert (r["evidence_start_s"], r["evidence_end_s"]) == spans[r["call_id"]]
        assert r["transcript_redacted"] is None or r["transcript_redacted"] in redacted


def test_explain_prints_the_verdict_with_its_proof(warehouse_url: str, evidence) -> None:
    key, rule = next((k, r) for k, r in sorted(evidence) if r == "gap")
    order_id = key.split(":", 1)[1]
    [found] = [e for e in explain(warehouse_url, order_id) if e.order_key == key]
    assert not found.compliant and "gap" in found.reasons
    assert [ev.call_id for ev in found.evidence if ev.rule == "gap"] == [
        r["call_id"] for r in sorted(evidence[(key, "gap")], key=lambda r: r["attempt_number"])
    ]
    with pytest.raises(NotFound, match="no audited order 'NO-SUCH-ORDER'"):
        explain(warehouse_url, "NO-SUCH-ORDER")


def test_clip_cuts_the_seconds_asked_from_the_recording(
    warehouse_url: str, synth_set: Path, tmp_path: Path
) -> None:
    from flows.config import get_settings

    with psycopg.connect(warehouse_url) as conn:
        call_id, audio_path = conn.execute(
            """select call_id, audio_path from marts.call_attempts
               where outcome = 'answered' order by 1 limit 1"""
        ).fetchone()
    source, rate = soundfile.read(synth_set / "audio" / audio_path, dtype="float32", always_2d=True)
    out, seconds = clip(warehouse_url, get_settings(), call_id, 1.5, 4.0, tmp_path / "excerpt.wav")
    excerpt, out_rate = soundfile.read(out, dtype="float32", always_2d=True)
    assert out_rate == rate and seconds == pytest.approx(2.5)
    expected = source[int(1.5 * rate) : int(4.0 * rate)]
    assert excerpt.shape == expected.shape
    assert np.abs(excerpt - expected).max() <= 2 / 32768  # 16-bit PCM, as the recording
    with pytest.raises(ValueError, match="start < end"):
        clip(warehouse_url, get_settings(), call_id, 3.0, 2.0, tmp_path / "x.wav")
    with pytest.raises(NotFound, match="no recording loaded for call 'C-NONE'"):
        clip(warehouse_url, get_settings(), "C-NONE", 0.0, 1.0, tmp_path / "x.wav")


def test_conversation_measures_cover_every_analysed_call(warehouse_url: str, synth_set: Path) -> None:
    """marts.call_conversations: a row per analysed call, speech where the analysis heard some, the parties'
    talk adding up to the time someone talked; scored against the truth's utterances, the longest silence
    within 0.3 s for at least 95 % of answered calls."""
    from flows.evaluate import score

    with psycopg.connect(warehouse_url) as conn:
        rows = conn.execute(
            """select c.call_id, c.has_speech, a.speech_onset_s is not null, c.is_stereo, c.talk_s,
                      c.agent_talk_s, c.customer_talk_s, c.overtalk_s, c.first_word_s, c.last_word_s
               from marts.call_conversations c
               join raw.calls r using (call_id)
               join raw.audio_files f on f.audio_path = r.audio_path
               join intermediate.int_audio_analysis_latest a on a.audio_sha256 = f.sha256"""
        ).fetchall()
        analysed = conn.execute(
            """select count(*) from raw.calls c join raw.audio_files f using (audio_path)
               where exists (select 1 from raw.audio_analysis a where a.sha256 = f.sha256)"""
        ).fetchone()[0]
    assert len(rows) == analysed > 0
    assert all(has_speech == heard for _, has_speech, heard, *_ in rows)
    stereo = [r for r in rows if r[3] and r[1]]
    assert stereo, "no stereo call with speech: the per-party measures would prove nothing"
    for row in stereo:
        talk, agent, customer, overtalk, first, last = (float(v) for v in row[4:])
        assert agent + customer - overtalk == pytest.approx(talk, abs=0.002)
        assert talk <= last - first + 0.001
    conversations = score(warehouse_url, synth_set)["conversations"]
    assert conversations["answered_calls"] > 0
    assert conversations["longest_silence_within_tolerance"] >= 0.95


def test_truth_talk_counts_parties_silences_and_interruptions() -> None:
    from flows.evaluate import _truth_talk

    spans = [[1.0, 2.0, 1], [3.0, 6.0, 0], [5.0, 7.5, 1], [6.2, 6.8, 0], [9.0, 9.5, 0]]
    talk, longest, interruptions = _truth_talk({"speech_onset_s": "3.0", "speech_spans": json.dumps(spans)})
    assert talk == {0: pytest.approx(4.1), 1: pytest.approx(2.5)}  # the span before the onset is left out
    assert longest == pytest.approx(1.5)  # voice 3.0-7.5, then 9.0
    assert interruptions == 2  # 5.0 into 3.0's turn, 6.2 into 5.0's; 9.0 interrupts nobody


def test_qa_scorecard_rates_every_item_of_each_answered_call(warehouse_url: str, synth_set: Path) -> None:
    """marts.call_qa_items: one row per item of the qa_items seed for each answered, transcribed call; an item
    of one call type applies to calls classified as that type only; a met item shows its redacted words and,
    where one transcript segment meets it, seconds inside the recording. Scored against the generator's
    truth, whose courteous and rude technicians meet and miss items, every item is scored on the same
    calls."""
    from flows.evaluate import score

    with psycopg.connect(warehouse_url) as conn:
        items = dict(conn.execute("select item_key, applies_to_call_type from seeds.qa_items").fetchall())
        answered = dict(
            conn.execute(
                """select distinct call_id, call_type from marts.call_attempts
                   where outcome = 'answered' and has_transcript and transcript_redacted is not null"""
            ).fetchall()
        )
        rows = conn.execute(
            """select q.call_id, q.item_key, q.qa_status, q.evidence_words, q.evidence_start_s,
                      q.evidence_end_s, f.duration_s
               from marts.call_qa_items q
               join raw.calls c using (call_id)
               join raw.audio_files f on f.audio_path = c.audio_path"""
        ).fetchall()
    assert answered and len(items) == 8
    assert sorted((c, i) for c, i, *_ in rows) == sorted((c, i) for c in answered for i in items)
    for call_id, item, status, words, start, end, duration in rows:
        applies = items[item] is None or answered[call_id] == items[item]
        assert (status == "not_applicable") == (not applies), (call_id, item)
        assert (words is not None) == (status == "met"), (call_id, item)
        if start is not None:
            assert status == "met" and 0 <= start <= end <= float(duration) + 0.01
    assert {"met", "not_met", "not_applicable"} <= {status for _, _, status, *_ in rows}
    qa = score(warehouse_url, synth_set)["qa_items"]
    assert set(qa) == set(items)
    scored = {c for c in answered if c in _answered_truth(synth_set)}
    assert {v["calls"] for v in qa.values()} == {len(scored)}
    planted = qa["names_self"]
    assert planted["met_in_truth"] > 0 and planted["not_met_in_truth"] > 0


def _answered_truth(synth_set: Path) -> set[str]:
    with open(synth_set / "truth" / "calls.csv", newline="", encoding="utf-8") as fh:
        return {r["call_id"] for r in csv.DictReader(fh) if r["qa_items"] and not r["duplicate_of"]}
