"""End to end on real parts: synthetic inputs → Prefect daily flow → Postgres → dbt → GX → verdicts.

The verdicts are read from the session's shared warehouse (one cold run); the tests that re-run the flow,
add a manifest row or corrupt data do so on this module's copy of it (``warehouse_clone``)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import psycopg
import pytest

from expectations.suites import SUITES
from tests.conftest import DAY, Warehouse, run_daily

pytestmark = pytest.mark.usefixtures("prefect_api")


def verdicts(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            """select order_type, order_id, attempts, is_branch_ok, is_attempts_ok, is_gap_ok, is_outcome_ok,
                      is_compliant, is_duplicate_ok, reasons
               from marts.order_compliance order by 1, 2"""
        ).fetchall()
    return [(*r[:-1], tuple(r[-1])) for r in rows]


def table_counts(url: str) -> dict[str, int]:
    tables = ["raw.manifest_rows", "raw.calls", "raw.audio_files", "ops.rejects", "ops.source_files"]
    with psycopg.connect(url) as conn:
        return {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}


def truth_orders(dataset: Path) -> dict[tuple[str, str], dict]:
    with open(dataset / "truth" / "orders.csv", newline="", encoding="utf-8") as fh:
        return {(r["order_type"], r["order_id"]): r for r in csv.DictReader(fh) if r["audited"] == "true"}


@pytest.fixture(scope="module")
def database_url(warehouse_url: str) -> str:
    """The shared warehouse (read-only here)."""
    return warehouse_url


@pytest.fixture(scope="module")
def first_run(warehouse: Warehouse):
    """The cold run on the session's synth set that built the warehouse (``dataset`` is a copy of it)."""
    return warehouse.run


def test_rules_1_to_3_equal_ground_truth_for_every_order(first_run, dataset: Path, database_url: str) -> None:
    truth = truth_orders(dataset)
    got = {(r[0], r[1]): r for r in verdicts(database_url)}
    assert set(got) == set(truth), "audited orders differ from the manifests' Suspendu rows"
    mismatches = []
    for key, t in truth.items():
        expected = (
            int(t["attempts"]),
            t["branch_ok"] == "true",
            t["attempts_ok"] == "true",
            t["gap_ok"] == "true",
        )
        if got[key][2:6] != expected:
            mismatches.append((key, t["scenario"], expected, got[key][2:6]))
    assert not mismatches
    # every rule fails somewhere in this data set, so the comparison above is not vacuous
    assert {False} <= {r[3] for r in got.values()} and {False} <= {r[4] for r in got.values()}
    assert {False} <= {r[5] for r in got.values()}


def test_rule_4_reads_the_audio_and_the_classification(first_run, dataset: Path, database_url: str) -> None:
    """Injoignable orders nobody answered hold, whatever words a voicemail message left; one whose answered
    call was a trusted conversation fails, and one whose answered call is weakly classified is not failed
    but undecided (in review, or pending without a transcript). The other motifs need the classified intent
    of an answered call, which exists once the bundled ASR model transcribes (else rule 4 stays null for
    them while one was answered)."""
    truth = truth_orders(dataset)
    rows = {(r[0], r[1]): r for r in verdicts(database_url)}
    injoignable = [k for k, t in truth.items() if t["motif_key"] == "injoignable"]
    assert injoignable and any(truth[k]["outcome_ok"] == "false" for k in injoignable)
    assert any(truth[k]["outcome_ok"] == "true" for k in injoignable)
    for key in injoignable:
        expected = truth[key]["outcome_ok"] == "true"
        assert rows[key][6] == expected if expected else rows[key][6] is not True, key
    with psycopg.connect(database_url) as conn:
        answered = {
            r[0]
            for r in conn.execute(
                "select distinct order_key from marts.call_attempts where outcome = 'answered'"
            )
        }
    others = [k for k, t in truth.items() if t["motif_key"] != "injoignable"]
    for order_type, order_id in others:
        if f"{order_type}:{order_id}" not in answered:  # nobody answered: the motif is not supported
            assert rows[(order_type, order_id)][6] is False, (order_type, order_id)
    decided = [k for k in others if f"{k[0]}:{k[1]}" in answered]
    with psycopg.connect(database_url) as conn:
        review = {
            (t, o)
            for t, o in conn.execute(
                "select order_type, order_id from marts.order_compliance where is_review_needed"
            )
        }
    assert decided
    if asr_model_present():  # ASR → redaction → classification decide them, or send them to review
        # The bundled model hears the generator's calls poorly (see models/asr/RECIPE.md), so most call
        # types fall below the calibrated probability: measured on this set, of 8 answered orders 6 go to
        # review, 1 is decided right and 1 wrong (a call type 4 at p=0.68). The classifier alone is held
        # to ≥ 90% on clean transcripts in test_classification_flow; here the bounds guard the plumbing
        # (every answered order decided or in review once the run is over) and catch a collapse.
        wrong = [
            k for k in decided if rows[k][6] is not None and rows[k][6] != (truth[k]["outcome_ok"] == "true")
        ]
        assert len(wrong) / len(decided) <= 0.25, wrong
        assert any(rows[k][6] is not None for k in decided)
        assert all(rows[k][6] is not None or k in review for k in decided)
        assert all(rows[k][6] is None for k in review)
    else:
        assert all(rows[k][6] is None for k in decided)
    assert all(r[7] == (r[3] and r[4] and r[5] and r[6] is not False and r[8]) for r in rows.values())
    assert all(("gap" in r[9]) == (not r[5]) for r in rows.values())


def test_marts_carry_redacted_text_only(first_run, database_url: str) -> None:
    from synth.phrases import AGENT_NAMES, CUSTOMER_NAMES

    if not asr_model_present():
        pytest.skip("no bundled ASR model in this checkout: nothing is transcribed, so nothing to redact")
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            """select transcript_redacted, summary, call_type, is_classification_trusted
               from marts.call_attempts where has_transcript"""
        ).fetchall()
        raw_texts = [r[0] for r in conn.execute("select text from raw.transcripts where channel <> 'agent'")]
    assert rows and all(t is not None for t, *_ in rows)
    assert sum(c is not None for _, _, c, _ in rows) >= 0.9 * len(rows)
    names = [n.lower() for full in CUSTOMER_NAMES for n in full.split()] + [n.lower() for n in AGENT_NAMES]
    heard = [n for n in names if any(n in t.lower() for t in raw_texts)]
    leaks = [(n, t) for t, summary, *_ in rows for n in names if n in f"{t} {summary}".lower()]
    assert not leaks
    assert heard, "the ASR heard no name at all: the leak check above would prove nothing"


def test_duplicate_recordings_are_found_and_not_counted(first_run, dataset: Path, database_url: str) -> None:
    """The generator reuses some recordings: the same file under another call id, the same conversation
    re-encoded (found through the transcripts' embeddings and the audio fingerprint), a conversation
    claimed for a second order. Each duplicate names its original; rule 2 does not count it."""
    with open(dataset / "truth" / "calls.csv", newline="", encoding="utf-8") as fh:
        truth = {r["call_id"]: r["duplicate_of"] for r in csv.DictReader(fh) if r.get("duplicate_of")}
    assert truth, "the data set has no duplicates: the test would prove nothing"
    with psycopg.connect(database_url) as conn:
        found = conn.execute("select call_id, original_call_id from intermediate.int_attempt_duplicates")
        found = dict(found.fetchall())
        counted = conn.execute(
            "select count(*) filter (where attempts - counted_attempts > 0), "
            "count(*) filter (where not is_duplicate_ok) from marts.order_compliance"
        ).fetchone()
    exact = dict(truth)
    if not asr_model_present():  # re-encoded copies are found through transcripts: only identical files
        with open(dataset / "truth" / "calls.csv", newline="", encoding="utf-8") as fh:
            kinds = {r["call_id"]: r["duplicate_kind"] for r in csv.DictReader(fh)}
        exact = {c: o for c, o in truth.items() if kinds[c] != "reencoded"}
    assert found == exact
    assert counted[0] == counted[1] > 0
    orders = truth_orders(dataset)
    got = {(r[0], r[1]): r for r in verdicts(database_url)}
    for key, t in orders.items():
        if "duplicate_ok" in t and (asr_model_present() or "reencoded" not in t.get("scenario", "")):
            assert got[key][8] == (t["duplicate_ok"] == "true"), key


def test_call_attempts_carry_what_the_audio_says(first_run, dataset: Path, database_url: str) -> None:
    with open(dataset / "truth" / "calls.csv", newline="", encoding="utf-8") as fh:
        truth = {r["call_id"]: r for r in csv.DictReader(fh)}
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "select call_id, outcome, ring_bursts, voicemail_beeps, speech_onset_s from marts.call_attempts"
        ).fetchall()
    assert rows and all(outcome is not None for _, outcome, *_ in rows)
    outcome_ok = sum(outcome == truth[c]["outcome"] for c, outcome, *_ in rows)
    rings_ok = sum(rings == len(json.loads(truth[c]["ring_bursts"])) for c, _, rings, *_ in rows)
    assert outcome_ok / len(rows) >= 0.95 and rings_ok / len(rows) >= 0.95


def asr_model_present() -> bool:
    from flows.config import get_settings

    return Path(get_settings().asr_model).exists()


def test_transcripts_start_at_the_speech_onset(first_run, database_url: str) -> None:
    if not asr_model_present():
        pytest.skip("no bundled ASR model in this checkout (callaudit asr train makes it)")
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            """select s.sha256, s.channel, s.start_s, s.end_s, a.speech_onset_s, f.channels
               from raw.transcript_segments s
               join raw.audio_analysis a using (sha256)
               join (select distinct sha256, channels from raw.audio_files) f using (sha256)"""
        ).fetchall()
        channels = conn.execute(
            """select f.channels, array_agg(distinct t.channel order by t.channel)
               from raw.transcripts t
               join (select distinct sha256, channels from raw.audio_files) f using (sha256)
               group by 1"""
        ).fetchall()
        attempts = conn.execute(
            """select count(*) filter (where has_transcript),
                      count(*) filter (where speech_onset_s is not null)
               from marts.call_attempts"""
        ).fetchone()
    assert rows
    assert all(start >= onset - 0.05 and end >= start for _, _, start, end, onset, _ in rows)
    assert dict(channels)[1] == ["mix"]
    assert dict(channels)[2] == ["agent", "customer", "dialogue"]
    assert attempts[0] == attempts[1] > 0


def test_the_transcriber_hears_the_speech_spans_the_analysis_stored(
    first_run, dataset: Path, database_url: str
) -> None:
    """raw.speech_segments holds every analysed recording's spans of speech, per channel, as the analysis
    found them; the transcription stage plans its chunks from them without analysing the audio again."""
    import soundfile

    from flows.transcribe import _speech_per_channel, _stored_speech
    from inference.audio_analysis import analyse_file

    with psycopg.connect(database_url) as conn:
        recordings = conn.execute(
            """select distinct on (f.channels, a.outcome) f.sha256, f.audio_path, f.channels
               from raw.audio_files f join raw.audio_analysis a using (sha256)
               where a.speech_onset_s is not null
               order by f.channels, a.outcome, f.sha256"""
        ).fetchall()
        without_spans = conn.execute(
            """select count(*) from raw.audio_analysis a
               where a.speech_onset_s is not null
                 and not exists (select 1 from raw.speech_segments s
                                 where s.sha256 = a.sha256 and s.detector_version = a.detector_version)"""
        ).fetchone()[0]
        stored = _stored_speech(conn, [sha for sha, *_ in recordings])
    assert {channels for *_, channels in recordings} == {1, 2}
    assert without_spans == 0
    for sha, audio_path, channels in recordings:
        path = dataset / "audio" / audio_path
        assert soundfile.info(path).channels == channels
        assert _speech_per_channel(stored[sha], channels) == analyse_file(path).speech_segments, audio_path


def test_malformed_rows_are_quarantined_with_reasons(first_run, dataset: Path, database_url: str) -> None:
    with open(dataset / "truth" / "rejects.csv", newline="", encoding="utf-8") as fh:
        expected = {(r["file"], f"row {r['row']}") for r in csv.DictReader(fh)}
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("select source, location, reason from ops.rejects").fetchall()
    assert {(s, loc) for s, loc, _ in rows} == expected
    assert all(reason for _, _, reason in rows)
    assert first_run.rejects_total == len(expected)


def test_run_summary_and_records(first_run, database_url: str) -> None:
    assert first_run.orders == len(verdicts(database_url)) > 0
    assert first_run.expectations == sum(
        len(s.expectations) + bool(s.row_count_from) + bool(s.row_count_at_least) for s in SUITES
    )
    assert first_run.dbt_nodes > 50
    with psycopg.connect(database_url) as conn:
        recordings = conn.execute("select count(distinct sha256) from raw.audio_files").fetchone()[0]
    # identical files under two call ids are one recording: analysed once
    assert first_run.recordings_analysed == recordings > 0
    assert recordings < first_run.ingest["audio"]["rows"]
    with psycopg.connect(database_url) as conn:
        with_speech = conn.execute(
            "select count(distinct sha256) from raw.audio_analysis where speech_onset_s is not null"
        ).fetchone()[0]
    assert first_run.recordings_transcribed == (with_speech if asr_model_present() else 0)
    assert with_speech > 0
    assert first_run.data_docs and Path(first_run.data_docs).exists()
    with psycopg.connect(database_url) as conn:
        state, summary = conn.execute("select state, summary from ops.runs").fetchone()
    assert state == "Completed" and summary["rows_inserted"] == first_run.rows_inserted > 0


def test_run_publishes_its_summary_and_failures_as_artifacts(first_run, database_url: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with psycopg.connect(database_url) as conn:
        [(run_id,)] = conn.execute("select run_id from ops.runs").fetchall()  # the first run only
        failing = conn.execute(
            "select count(*) from marts.order_compliance where not is_compliant"
        ).fetchone()[0]
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
    by_key = {a.key: a for a in artifacts}
    assert f"**{first_run.orders}** audited orders" in by_key["daily-compliance-summary"].data
    assert failing > 0 and by_key["non-compliant-orders"].data.count('"order"') == failing


def test_rerunning_the_same_day_changes_nothing(first_run, synth_set: Path, warehouse_clone: str) -> None:
    before_counts, before_verdicts = table_counts(warehouse_clone), verdicts(warehouse_clone)
    with psycopg.connect(warehouse_clone) as conn:
        before_loaded = conn.execute("select max(loaded_at) from raw.manifest_rows").fetchone()[0]
    # the very files the warehouse was built from (a call records file is known by its path)
    again = run_daily(synth_set)
    assert again.rows_inserted == 0 and again.rejected_now == 0
    assert again.recordings_analysed == 0 and again.recordings_transcribed == 0
    assert again.recordings_redacted == 0 and again.calls_classified == 0 and again.llm_tokens == 0
    assert table_counts(warehouse_clone) == before_counts
    assert verdicts(warehouse_clone) == before_verdicts
    with psycopg.connect(warehouse_clone) as conn:
        assert conn.execute("select max(loaded_at) from raw.manifest_rows").fetchone()[0] == before_loaded


def test_one_more_manifest_row_adds_exactly_that_order(
    first_run, dataset: Path, warehouse_clone: str
) -> None:
    manifest = dataset / "manifests" / f"ACQUISITION_ADSL_{DAY:%Y%m%d}.csv"
    original = manifest.read_bytes()
    before = verdicts(warehouse_clone)
    line = f"CMD-9999999;0699999999;{DAY:%d/%m/%Y};{DAY:%d/%m/%Y};Suspendu;Client absent;ADSL\r\n"
    manifest.write_bytes(original + line.encode("cp1252"))
    try:
        summary = run_daily(dataset)
        after = verdicts(warehouse_clone)
        added = set(after) - set(before)
        assert [(r[0], r[1]) for r in added] == [("ACQUISITION", "CMD-9999999")]
        assert set(before) <= set(after)
        loaded = {m["source"]: m for m in summary.ingest["manifests"]}
        assert loaded[manifest.name]["status"] == "replaced"
        assert all(m["status"] == "unchanged" for name, m in loaded.items() if name != manifest.name)
        new = next(iter(added))
        assert new[2:6] == (0, True, False, True)  # no call at all: only the attempts rule fails
    finally:
        manifest.write_bytes(original)
    run_daily(dataset)  # the edited file replaces its rows again: the order is gone
    assert verdicts(warehouse_clone) == before


def test_analyst_reads_marts_and_nothing_else(first_run, database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute("set role callaudit_analyst")
        assert conn.execute("select count(*) from marts.order_compliance").fetchone()[0] > 0
        assert conn.execute("select count(*) from marts.call_attempts").fetchone()[0] > 0
    for table in ("raw.calls", "vault.pii_tokens", "ops.rejects", "staging.stg_raw__calls"):
        with psycopg.connect(database_url) as conn:
            conn.execute("set role callaudit_analyst")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select * from {table} limit 1")


def test_call_attempts_are_ordered_with_gaps(first_run, database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            """select order_key, attempt_number, started_at, gap_minutes from marts.call_attempts
               order by order_key, attempt_number"""
        ).fetchall()
    assert rows
    previous = {}
    for key, number, started, gap in rows:
        if number == 1:
            assert gap is None
        else:
            prev_number, prev_started = previous[key]
            assert prev_number == number - 1
            assert abs(float(gap) - (started - prev_started).total_seconds() / 60) < 0.01
        previous[key] = (number, started)


def test_dbt_docs_generate(first_run, database_url: str) -> None:
    from flows.transform import dbt_docs_generate

    index = dbt_docs_generate(database_url)
    assert index.exists()
    catalog = (index.parent / "catalog.json").read_text()
    assert "order_compliance" in catalog and "call_attempts" in catalog


def test_dbt_unit_tests_pass_and_the_run_leaves_them_out(first_run, database_url: str) -> None:
    """The daily run builds every model, seed and data test but no unit test (fixtures say nothing about the
    day's data); the unit tests pass when asked for, every one of them."""
    from flows.config import get_settings
    from flows.transform import dbt_unit_tests

    manifest = json.loads((get_settings().dbt_target_dir / "manifest.json").read_text(encoding="utf-8"))
    built = [n for n in manifest["nodes"].values() if n["resource_type"] in ("model", "seed", "test")]
    assert first_run.dbt_nodes == len(built) + len(manifest["exposures"])
    unit_tests = manifest["unit_tests"]
    assert len(unit_tests) >= 20
    summary = dbt_unit_tests(database_url)
    assert summary.success and summary.nodes == len(unit_tests)


def test_a_voicemail_message_never_contradicts_injoignable(first_run, warehouse_clone: str) -> None:
    """The technician's messages on voicemail, as the pipeline transcribed them, classified the worst way (a
    trusted, sure "the customer refuses"): no injoignable order fails rule 4 for it, and an order whose
    attempts were all heard unanswered still holds. The forced classifications are newer rows of
    raw.classifications under their own prompt version, removed (and the marts rebuilt) afterwards."""
    from flows.transform import dbt_build

    if not asr_model_present():
        pytest.skip("no bundled ASR model in this checkout: voicemail messages are not transcribed")
    forced = "test-voicemail-refuses"
    with psycopg.connect(warehouse_clone) as conn:
        messages = conn.execute(
            """select distinct a.audio_sha256, a.call_id from marts.call_attempts a
               join marts.order_compliance o using (order_key)
               where a.outcome = 'voicemail' and a.has_transcript and a.transcript_chars > 0
                 and o.motif_key = 'injoignable'"""
        ).fetchall()
        assert messages, "no voicemail message was transcribed in this data set"
        with conn.transaction():
            for sha, call_id in messages:
                conn.execute(
                    """insert into raw.classifications (sha256, model, prompt_version, request_key, call_id,
                           call_type, behavior, sentiment, summary, action_items, is_trusted,
                           call_type_confidence, created_at)
                       values (%s, 'classifier', %s, %s, %s, 1, 1, 'negative',
                               'Le client refuse l''installation.', '[]', true, 0.99,
                               now() + interval '1 hour')""",
                    [sha, forced, forced, call_id],
                )
    try:  # from the table call_attempts reads the current classifications from
        dbt_build(warehouse_clone, select="int_classifications_latest+")
        with psycopg.connect(warehouse_clone) as conn:
            seen = conn.execute(
                "select count(*) from marts.call_attempts where prompt_version = %s and call_type = 1 "
                "and is_classification_trusted",
                [forced],
            ).fetchone()[0]
            orders = conn.execute(
                """select o.order_key, o.is_outcome_ok, o.is_review_needed,
                          bool_and(a.outcome <> 'answered') as nobody_answered,
                          bool_or(a.outcome = 'answered' and a.is_classification_trusted
                                  and a.call_type between 1 and 4) as trusted_conversation
                   from marts.order_compliance o join marts.call_attempts a using (order_key)
                   where o.motif_key = 'injoignable'
                     and o.order_key in (select order_key from marts.call_attempts where prompt_version = %s)
                   group by o.order_key, o.is_outcome_ok, o.is_review_needed""",
                [forced],
            ).fetchall()
        assert seen == len(messages)
        assert orders and any(nobody for _, _, _, nobody, _ in orders)
        for key, outcome_ok, needs_review, nobody_answered, conversation in orders:
            assert outcome_ok is not False or conversation, key
            if nobody_answered:
                assert outcome_ok is True and needs_review is False, key
    finally:
        with psycopg.connect(warehouse_clone) as conn:
            conn.execute("delete from raw.classifications where prompt_version = %s", [forced])
        dbt_build(warehouse_clone, select="int_classifications_latest+")


def test_a_failed_check_fails_the_run_naming_table_and_check(first_run, warehouse_clone: str):
    """Last in this module: it corrupts the warehouse behind the loader's back, once for each of the two
    guards. A manifest row gone is invisible to dbt (the marts rebuild from the rows left and every data
    test passes): the run's GX checkpoint task then fails (a failed task fails the daily run) on the table's
    row count against what the loader recorded, naming that table and check and no mart. A technician's
    number that is no phone number is an invariant in SQL: the dbt build fails on the data test of that
    column, naming it, and the marts downstream are not rebuilt from it."""
    from expectations.checkpoint import ExpectationsFailed
    from flows.quality import gx_checkpoint
    from flows.transform import dbt_build

    with psycopg.connect(warehouse_clone) as conn:
        conn.execute(
            "delete from raw.manifest_rows where (source_path, row_number) = (select source_path, "
            "row_number from raw.manifest_rows order by 1, 2 limit 1)"
        )
    assert dbt_build(warehouse_clone, select="stg_raw__manifest_rows+").success
    state = gx_checkpoint(warehouse_clone, return_state=True)
    assert state.is_failed()
    with pytest.raises(ExpectationsFailed) as failure:
        state.result()
    assert [(f.table, f.expectation) for f in failure.value.report.failures] == [
        ("raw.manifest_rows", "expect_table_row_count_to_equal")
    ]
    assert "raw.manifest_rows: expect_table_row_count_to_equal" in str(failure.value)

    with psycopg.connect(warehouse_clone) as conn:
        conn.execute(
            "update raw.calls set caller_number = 'not-a-number' where call_id = (select min(call_id) "
            "from raw.calls)"
        )
    with pytest.raises(RuntimeError) as failure:
        dbt_build(warehouse_clone, select="stg_raw__calls+")
    failed = str(failure.value).split("\n  ")[1:]
    assert len(failed) == 1, failed
    assert failed[0].startswith("test matches_pattern_stg_raw__calls_caller_number"), failed
