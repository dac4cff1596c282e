"""Guards with configurable limits and the analysts' pseudonyms (issue 18, defect 8).

Two daily runs on one small synthetic set with the limits set low (recordings up to 120 s, 120
characters of transcript per LLM request): a clean run, then a run with every recording of one order made
longer than the limit, manifest and call rows dated 1900 or 2999, a row whose offer contradicts its file
name, an audited row with an unknown motif and a recording no call row names. Each bad item must be in
ops.rejects with its reason, the long recordings' order and the unknown motif's in review (never
certified), the other orders' verdicts unchanged and the run complete (dbt and GX included).
Then the analyst role reads the marts: no customer number, a stable keyed pseudonym. Then classification
against a real local HTTP LLM server: every request is in raw.llm_requests before the server sees it, and
a request left in flight by a dead run is asked again once, counted; an answered one never again. The
early checks of ``--prefix`` and ``s3://`` roots run without a pipeline."""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psycopg
import pytest
import soundfile as sf

from tests.conftest import DAY, SEED, exported, run_daily
from tests.fake_openai import FakeOpenAI, router_config_file

pytestmark = pytest.mark.usefixtures("prefect_api")

MAX_RECORDING_S = 120
MAX_CHARS = 120
MANIFEST = f"ACQUISITION_ADSL_{DAY:%Y%m%d}.csv"  # cp1252, ';'-separated
BAD_MANIFEST_ROWS = {  # order id -> (line, what the reject's reason says)
    "CMD-8000001": ("CMD-8000001;0612000001;01/01/1900;20/11/2026;Suspendu;Client injoignable;ADSL",
                    "ordered_on 1900-01-01 is outside the accepted dates"),
    "CMD-8000002": ("CMD-8000002;0612000002;16/11/2026;01/01/2999;Suspendu;Client absent;ADSL",
                    "suspended_on 2999-01-01 is outside the accepted dates"),
    "CMD-8000004": ("CMD-8000004;0612000004;16/11/2026;20/11/2026;Suspendu;Client absent;VULA",
                    "offer 'VULA' contradicts the file name's offer 'ADSL'"),
}  # fmt: skip
UNKNOWN_MOTIF = "CMD-8000003"  # audited on rules 1-3, rule 4 to a person: no rule says what the motif needs
UNKNOWN_MOTIF_ROW = f"{UNKNOWN_MOTIF};0612000003;16/11/2026;20/11/2026;Suspendu;Client parti en vacances;ADSL"
FUTURE_CALL = "C999999"
ORPHAN = "EXTRA/orphan.wav"


@dataclass
class Snapshot:
    verdicts: dict[str, tuple]
    pseudonyms: dict[str, str]  # order_key -> client_pseudonym
    attempts: dict[str, list[str]]  # order_key -> audio paths of its attempts
    rejects: dict[tuple[str, str, str], str]  # (kind, source, location) -> reason


def snapshot(url: str) -> Snapshot:
    with psycopg.connect(url) as conn:
        verdicts, pseudonyms = {}, {}
        for key, pseudonym, *verdict in conn.execute(
            """select order_key, client_pseudonym, is_branch_ok, is_attempts_ok, is_gap_ok, is_outcome_ok,
                      is_duplicate_ok, is_compliant, is_review_needed, review_reason, reasons_text
               from marts.order_compliance"""
        ):
            verdicts[key], pseudonyms[key] = tuple(verdict), pseudonym
        attempts: dict[str, list[str]] = {}
        for key, path in conn.execute(
            "select order_key, audio_path from marts.call_attempts where audio_path is not null"
        ):
            attempts.setdefault(key, []).append(path)
        rejects = {
            (k, s, loc): reason
            for k, s, loc, reason in conn.execute(
                "select source_kind, source, location, reason from ops.rejects"
            )
        }
    return Snapshot(verdicts, pseudonyms, attempts, rejects)


@pytest.fixture(scope="module")
def limits():
    with exported(
        CALLAUDIT_MAX_RECORDING_S=str(MAX_RECORDING_S), CALLAUDIT_LLM_MAX_TRANSCRIPT_CHARS=str(MAX_CHARS)
    ):
        yield


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from synth import generate

    out = tmp_path_factory.mktemp("guards")
    generate(out, orders=6, seed=SEED, day=DAY, progress=False, duplicates=0)
    return out


@pytest.fixture(scope="module")
def clean(limits, folder: Path, database_url: str) -> Snapshot:
    run_daily(folder)
    return snapshot(database_url)


@dataclass
class Guarded:
    after: Snapshot
    target: str  # the order whose every recording was made longer than the limit
    long_paths: list[str]


@pytest.fixture(scope="module")
def guarded(clean: Snapshot, folder: Path, database_url: str) -> Guarded:
    with psycopg.connect(database_url) as conn:
        longest = conn.execute("select max(duration_s) from raw.audio_files").fetchone()[0]
    assert longest < MAX_RECORDING_S, "the data set's recordings must fit the limit before the test"
    target = next(
        key
        for key, verdict in sorted(clean.verdicts.items())
        if key in clean.attempts and verdict[3] is not None and not verdict[6]  # outcome decided, no review
    )
    for path in clean.attempts[target]:  # padded with silence past the limit
        samples, rate = sf.read(folder / "audio" / path, always_2d=True)
        pad = np.zeros(((MAX_RECORDING_S + 20) * rate - len(samples), samples.shape[1]))
        sf.write(folder / "audio" / path, np.concatenate([samples, pad]), rate)
    manifest = folder / "manifests" / MANIFEST
    lines = "".join(
        line + "\r\n" for line in [*(line for line, _ in BAD_MANIFEST_ROWS.values()), UNKNOWN_MOTIF_ROW]
    )
    manifest.write_bytes(manifest.read_bytes() + lines.encode("cp1252"))
    with open(folder / "calls.csv", "a", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerow(
            [FUTURE_CALL, "ADSL_SAV", "0522000001", "0600000017", "2999-01-01T10:00:00+00:00", "30", ""]
        )
    (folder / "audio" / ORPHAN).parent.mkdir()
    shutil.copy(folder / "audio" / clean.attempts[target][0], folder / "audio" / ORPHAN)
    run_daily(folder)  # raises if any stage, dbt or GX fails
    return Guarded(snapshot(database_url), target, list(clean.attempts[target]))


def test_a_recording_longer_than_the_limit_sends_its_order_to_review(guarded: Guarded) -> None:
    for path in guarded.long_paths:
        reason = guarded.after.rejects[("audio", path, "file")]
        assert f"longer than the {MAX_RECORDING_S} s limit" in reason
    branch_ok, attempts_ok, gap_ok, outcome_ok, duplicate_ok, compliant, review, why, _ = (
        guarded.after.verdicts[guarded.target]
    )
    assert outcome_ok is None and review and "longer than" in why
    assert not (compliant and outcome_ok)  # never certified from nothing


def test_the_other_orders_verdicts_are_unchanged(clean: Snapshot, guarded: Guarded) -> None:
    before = {k: v for k, v in clean.verdicts.items() if k != guarded.target}
    after = {k: v for k, v in guarded.after.verdicts.items() if k in before}
    assert after == before and len(before) >= 4
    assert set(guarded.after.verdicts) == set(clean.verdicts) | {f"ACQUISITION:{UNKNOWN_MOTIF}"}


def test_an_unknown_motif_is_audited_but_never_certified_on_rule_4(guarded: Guarded) -> None:
    *_, outcome_ok, _, _, review, why, _ = guarded.after.verdicts[f"ACQUISITION:{UNKNOWN_MOTIF}"]
    assert outcome_ok is None and review
    assert why.startswith("motif 'Client parti en vacances' matches no rule of motif_rules")


def test_bad_dates_and_contradicting_offers_are_rejected_with_reasons(guarded: Guarded) -> None:
    manifest_rejects = {
        reason for (kind, source, _), reason in guarded.after.rejects.items() if kind == "manifest"
    }
    for order_id, (_, why) in BAD_MANIFEST_ROWS.items():
        assert any(why in reason for reason in manifest_rejects), order_id
        assert not any(key.endswith(order_id) for key in guarded.after.verdicts), order_id
    (call_reject,) = [
        reason
        for (kind, _, _), reason in guarded.after.rejects.items()
        if kind == "calls" and "2999" in reason
    ]
    assert "start_time 2999-01-01 is outside the accepted dates" in call_reject


def test_a_recording_without_a_call_row_is_reported(guarded: Guarded, database_url: str) -> None:
    reported = {s: r for (k, s, _), r in guarded.after.rejects.items() if k == "recording_without_call"}
    assert set(reported) == {ORPHAN} and "no call row" in reported[ORPHAN]
    with psycopg.connect(database_url) as conn:
        assert (
            conn.execute("select count(*) from raw.audio_files where audio_path = %s", [ORPHAN]).fetchone()[0]
            == 0
        )


def test_long_transcripts_are_cut_for_the_llm_and_flagged(guarded: Guarded, database_url: str) -> None:
    from flows.classify import request_key
    from inference.llm_schema import build_messages, fit_transcript

    with psycopg.connect(database_url) as conn:
        calls = conn.execute(
            """select c.request_key, c.transcript_chars, c.transcript_truncated, r.text
               from raw.llm_calls c
               join raw.redacted_transcripts r on r.sha256 = c.sha256 and r.channel in ('dialogue', 'mix')"""
        ).fetchall()
    keys = {key: (chars, cut) for key, chars, cut, _ in calls}
    truncated = [(key, text) for key, chars, cut, text in calls if cut]
    assert truncated, "no transcript is longer than the limit: the test would prove nothing"
    for key, text in truncated:
        sent, cut = fit_transcript(text, MAX_CHARS)
        assert cut and len(sent) <= MAX_CHARS and "[…]" in sent
        assert request_key(build_messages(sent)) == key and keys[key][0] == len(text.strip()) > MAX_CHARS
    assert all(chars <= MAX_CHARS for chars, cut in keys.values() if not cut)


# ------------------------------------------------------------------------------------- analysts' view
def test_analysts_see_a_keyed_pseudonym_never_the_customer_number(
    clean: Snapshot, guarded: Guarded, database_url: str
) -> None:
    from flows.config import get_settings
    from warehouse.pseudonyms import pseudonym, pseudonym_key

    with psycopg.connect(database_url) as conn:
        numbers = {
            (r[0] + ":" + r[1]): r[2]
            for r in conn.execute("select order_type, order_id, client_number from raw.manifest_rows")
        }
        marts = [
            (t, c)
            for t, c in conn.execute(
                """select table_name, column_name from information_schema.columns
                   where table_schema = 'marts' and data_type in ('text', 'character varying', 'ARRAY')"""
            )
        ]
    key = pseudonym_key(get_settings(), database_url)
    after = guarded.after.pseudonyms
    assert after and all(after[k] == pseudonym(key, numbers[k]) for k in after)
    assert {k: after[k] for k in clean.pseudonyms} == clean.pseudonyms  # stable across runs
    assert len(set(after.values())) == len({numbers[k] for k in after})  # one per customer
    with psycopg.connect(database_url) as conn:
        conn.execute("set role callaudit_analyst")
        got = dict(conn.execute("select order_key, client_pseudonym from marts.order_compliance").fetchall())
        assert got == after
        seen = {
            str(v)
            for table, column in marts
            for (v,) in conn.execute(f'select "{column}" from marts."{table}"')
            if v is not None
        }
    digits = set(numbers.values())
    assert not any(n in value for value in seen for n in digits)
    for forbidden in (
        "select client_number from marts.order_compliance",
        "select * from vault.client_pseudonyms",
        "select * from staging.stg_vault__client_pseudonyms",
        "select * from intermediate.int_orders_deduplicated",
    ):
        with psycopg.connect(database_url) as conn:
            conn.execute("set role callaudit_analyst")
            with pytest.raises((psycopg.errors.InsufficientPrivilege, psycopg.errors.UndefinedColumn)):
                conn.execute(forbidden)


# ------------------------------------------------------------------------------ LLM write-ahead record
class WitnessLLM(FakeOpenAI):
    """A real local OpenAI-compatible server that, on each request, looks in the warehouse for the
    request's write-ahead row (sent, not answered) before it answers."""

    def __init__(self, database_url: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.database_url = database_url
        self.recorded_first: list[bool] = []

    def respond(self, rec):
        from flows.classify import request_key

        with psycopg.connect(self.database_url) as conn:
            row = conn.execute(
                "select answered_at is null from raw.llm_requests "
                "where request_key = %s and model = 'remote'",
                [request_key(self.messages_of(rec))],
            ).fetchone()
        self.recorded_first.append(bool(row and row[0]))
        return super().respond(rec)


@pytest.fixture(scope="module")
def witness(guarded: Guarded, database_url: str, tmp_path_factory: pytest.TempPathFactory):
    with WitnessLLM(database_url, rpm=600) as server:
        path = router_config_file(server.api_base, tmp_path_factory.mktemp("llm"), max_concurrency=2)
        yield server, path


def test_each_llm_request_is_recorded_before_it_is_sent_and_never_paid_twice(
    witness, database_url: str
) -> None:
    from flows.classify import classify_calls
    from flows.config import Settings

    server, path = witness
    settings = Settings(llm_config=path, llm_model="remote")
    first = classify_calls(database_url, settings)
    assert first.counts["requests"] > 1 and len(server.requests) == first.counts["requests"]
    assert all(server.recorded_first) and len(server.recorded_first) == first.counts["requests"]
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "select sends, unanswered_resends, answered_at is not null from raw.llm_requests "
            "where model = 'remote'"
        ).fetchall()
        assert len(rows) == first.counts["requests"] and set(rows) == {(1, 0, True)}
        # a run dies after sending one request and before storing its answer
        (lost,) = conn.execute(
            "select request_key from raw.llm_requests where model = 'remote' order by request_key limit 1"
        ).fetchone()
        conn.execute("update raw.llm_requests set answered_at = null where request_key = %s", [lost])
        conn.execute("delete from raw.classifications where request_key = %s and model = 'remote'", [lost])
        conn.execute("delete from raw.llm_calls where request_key = %s and model = 'remote'", [lost])
    sent_before = len(server.requests)
    resumed = classify_calls(database_url, settings)
    assert resumed.counts["requests"] == 1 and resumed.counts["resent"] == 1
    assert len(server.requests) == sent_before + 1
    again = classify_calls(database_url, settings)  # every answer stored: nothing is asked again
    assert again.counts["requests"] == 0 and len(server.requests) == sent_before + 1
    with psycopg.connect(database_url) as conn:
        counts = {
            key: (sends, resends)
            for key, sends, resends in conn.execute(
                "select request_key, sends, unanswered_resends from raw.llm_requests where model = 'remote'"
            )
        }
        answered = conn.execute(
            "select count(*) from raw.llm_requests where model = 'remote' and answered_at is null"
        ).fetchone()[0]
    assert counts.pop(lost) == (2, 1) and set(counts.values()) == {(1, 0)} and answered == 0


# ----------------------------------------------------------------------------------- early errors
def test_a_prefix_that_selects_nothing_stops_before_the_run(folder: Path) -> None:
    from flows.config import get_settings
    from flows.daily import check_prefixes

    settings, manifests = get_settings(), folder / "manifests"
    with pytest.raises(ValueError, match="matches no manifest type"):
        check_prefixes(settings, manifests, DAY, ["SAVV"], need_files=False)
    with pytest.raises(FileNotFoundError, match="no manifest of 2026-11-19"):
        check_prefixes(settings, manifests, DAY.replace(day=19), ["SAV_ADSL"], need_files=True)
    check_prefixes(settings, manifests, DAY.replace(day=19), ["SAV_ADSL"], need_files=False)  # an empty day
    check_prefixes(settings, manifests, DAY, ["SAV", "ACQUISITION_VULA"], need_files=True)


@pytest.mark.parametrize(
    "root", ["s3:/recordings", "s3://", "S3://recordings", "s3://My_Bucket/x", "s3://ab"]
)
def test_a_malformed_s3_root_is_a_clear_early_error(root: str, folder: Path) -> None:
    from flows.config import get_settings
    from flows.daily import resolve_inputs

    with pytest.raises(ValueError, match="not an S3 location: use s3://bucket/prefix"):
        resolve_inputs(get_settings(), str(folder / "manifests"), str(folder / "calls.csv"), root)


def test_a_well_formed_s3_root_parses() -> None:
    from flows.storage import parse_s3_uri

    assert parse_s3_uri("s3://recordings/calls/2026/") == ("recordings", "calls/2026")
    assert parse_s3_uri("s3://call-audio.eu") == ("call-audio.eu", "")


# ------------------------------------------------------------------------------------- pure guards
def test_a_long_transcript_keeps_its_start_and_end_within_the_limit() -> None:
    from inference.llm_schema import fit_transcript

    text = "début " + "x" * 1000 + " fin"
    cut, truncated = fit_transcript(text, 120)
    assert truncated and len(cut) <= 120 and cut.startswith("début") and cut.endswith("fin")
    assert fit_transcript("  court  ", 120) == ("court", False)


TRANSCRIBE_ONLY = """
import sys
from prefect import flow
from flows.config import get_settings
from flows.transcribe import transcribe

@flow(name="transcribe-only")
def transcribe_only(url: str):
    return transcribe(url, get_settings())

print(transcribe_only(sys.argv[1]).processed)
"""


def test_a_run_killed_during_transcription_keeps_what_it_had_transcribed(
    server_url: str, warehouse, prefect_api: None, tmp_path: Path
) -> None:
    """ASR results are written per group of calls: after kill -9 in the middle of the stage, the groups
    already done stay, and the next run transcribes only the others, to the same text."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from inference.asr_model import BUNDLED_MODEL
    from tests.conftest import clone_database

    if not BUNDLED_MODEL.exists():
        pytest.skip("no bundled speech model in this checkout: nothing is transcribed")
    url = clone_database(server_url, warehouse.url, "t_asr_kill")
    with psycopg.connect(url) as conn:
        expected = conn.execute("select sha256, channel, text from raw.transcripts order by 1, 2").fetchall()
        conn.execute("delete from raw.transcript_segments")
        conn.execute("delete from raw.transcripts")
    total = len({sha for sha, _, _ in expected})
    assert total > 16, "fewer than three groups of 8 calls: nothing to kill in the middle of"
    script = tmp_path / "transcribe_only.py"
    script.write_text(TRANSCRIBE_ONLY, encoding="utf-8")
    from prefect.settings import PREFECT_API_URL

    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CALLAUDIT_ASR_WORKERS": "1",
        "CALLAUDIT_ASR_BATCH_SIZE": "8",
        # the session's Prefect server: a stage killed with its own ephemeral server would leave that behind
        "PREFECT_API_URL": PREFECT_API_URL.value(),
    }
    stage = subprocess.Popen(
        [sys.executable, str(script), url], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    written = 0
    try:
        deadline = time.monotonic() + 600
        while written == 0 and stage.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)
            with psycopg.connect(url) as conn:
                written = conn.execute("select count(distinct sha256) from raw.transcripts").fetchone()[0]
        assert stage.poll() is None, "the stage ended before its first group was written"
        os.kill(stage.pid, signal.SIGKILL)
    finally:
        stage.kill()
        stage.wait()
    with psycopg.connect(url) as conn:
        kept = conn.execute("select count(distinct sha256) from raw.transcripts").fetchone()[0]
    assert 0 < kept < total
    done = subprocess.run(
        [sys.executable, str(script), url], env=env, capture_output=True, text=True, timeout=900, check=True
    )
    assert int(done.stdout.strip().splitlines()[-1]) == total - kept
    with psycopg.connect(url) as conn:
        again = conn.execute("select sha256, channel, text from raw.transcripts order by 1, 2").fetchall()
    assert again == expected
