"""Redaction and classification stages on the real database, the real vault and a real HTTP LLM server.

The transcripts are the generator's ground truth (what issue 5 may start from before ASR), inserted into
``raw.transcripts`` as an ASR model called ``truth`` would have written them. The LLM is either a local
OpenAI-compatible server (``tests/fake_openai.py``) or the offline default route (the local classifier).
"""

from __future__ import annotations

import csv
from pathlib import Path

import psycopg
import pytest

from inference.hashing import file_sha256
from tests.fake_openai import FakeOpenAI, invented_id, router_config_file

pytestmark = pytest.mark.usefixtures("prefect_api")


@pytest.fixture(scope="module")
def truth_calls(dataset: Path) -> list[dict]:
    with open(dataset / "truth" / "calls.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def transcripts(truth_calls: list[dict], dataset: Path, database_url: str) -> dict[str, dict]:
    """``raw.transcripts`` from the ground truth; returns the truth rows by sha256."""
    with open(dataset / "calls.csv", newline="", encoding="utf-8") as fh:
        paths = {r["call_id"]: r["audio_path"] for r in csv.DictReader(fh)}
    by_sha: dict[str, dict] = {}
    for row in truth_calls:
        by_sha.setdefault(file_sha256(dataset / "audio" / paths[row["call_id"]]), row)
    with psycopg.connect(database_url) as conn:
        for sha, row in by_sha.items():
            conn.execute(
                "insert into raw.transcripts (sha256, model_id, chunking_id, channel, call_id, text, "
                "segments) values (%s, 'truth', 'truth', 'mix', %s, %s, 1)",
                [sha, row["call_id"], row["transcript"]],
            )
    return by_sha


def settings(**overrides):
    from flows.config import Settings

    return Settings(**overrides)


def vault_values(database_url: str) -> dict[str, dict[str, str]]:
    from warehouse.vault import Vault, vault_key

    vault = Vault(vault_key(settings()))
    with psycopg.connect(database_url) as conn:
        shas = [r[0] for r in conn.execute("select distinct sha256 from vault.pii_tokens")]
        return {sha: vault.mapping(conn, sha) for sha in shas}


@pytest.fixture(scope="module")
def redacted(transcripts: dict, database_url: str):
    from flows.redact import redact_transcripts

    return redact_transcripts(database_url, settings())


def test_redaction_replaces_names_and_keeps_them_only_in_the_vault(
    redacted, transcripts: dict, database_url: str
) -> None:
    from synth.phrases import AGENT_NAMES, CUSTOMER_NAMES

    assert redacted.processed == len(transcripts) and redacted.counts["entities"] > 0
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("select sha256, text, entities from raw.redacted_transcripts").fetchall()
    assert len(rows) == len(transcripts)
    names = [n for full in CUSTOMER_NAMES for n in full.split()] + list(AGENT_NAMES)
    spoken = [text for sha, text, _ in rows if any(n in transcripts[sha]["transcript"] for n in names)]
    assert spoken, "the data set has no names to redact: the test would prove nothing"
    leaks = [(name, text) for _, text, _ in rows for name in names if name.lower() in text.lower()]
    assert not leaks
    assert any("[PERSON_" in text for text in spoken)
    values = vault_values(database_url)
    stored = {v for mapping in values.values() for v in mapping.values()}
    assert any(full in stored or full.split()[0] in stored for full in CUSTOMER_NAMES)
    # every token written in a redacted text is in that recording's vault
    for sha, text, _ in rows:
        for token in set(__import__("re").findall(r"\[[A-Z_]+_\d+\]", text)):
            assert token in values.get(sha, {}), (sha, token)


def test_vault_is_encrypted_and_closed_to_analysts(redacted, database_url: str) -> None:
    from synth.phrases import CUSTOMER_NAMES

    with psycopg.connect(database_url) as conn:
        blobs = [bytes(r[0]) for r in conn.execute("select value_encrypted from vault.pii_tokens")]
        assert blobs and not any(n.encode() in b for b in blobs for n in CUSTOMER_NAMES)
        conn.execute("set role callaudit_analyst")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select count(*) from vault.pii_tokens")


def test_redaction_rerun_does_nothing(redacted, database_url: str) -> None:
    from flows.redact import redact_transcripts

    again = redact_transcripts(database_url, settings())
    assert again.processed == 0 and again.skipped == redacted.processed


@pytest.fixture(scope="module")
def fake_llm(tmp_path_factory: pytest.TempPathFactory):
    with FakeOpenAI(rpm=600) as server:
        path = router_config_file(server.api_base, tmp_path_factory.mktemp("llm"), max_concurrency=4)
        yield server, path


@pytest.fixture(scope="module")
def remote_run(redacted, fake_llm, database_url: str):
    from flows.classify import classify_calls

    server, path = fake_llm
    server.script(invented_id("CMD-9999999"))  # the first answer claims an order id nobody said
    return classify_calls(database_url, settings(llm_config=path, llm_model="remote"))


def test_remote_route_gets_only_redacted_text(remote_run, fake_llm, database_url: str) -> None:
    server, _ = fake_llm
    with psycopg.connect(database_url) as conn:
        asked = conn.execute("select count(*) from raw.redacted_transcripts where length(trim(text)) > 0")
        asked = asked.fetchone()[0]
    assert remote_run.processed == asked and remote_run.counts["failed"] == 0
    # recordings whose redacted words are identical share one request: asked once, paid once
    with psycopg.connect(database_url) as conn:
        distinct = conn.execute(
            "select count(distinct request_key), count(*) from raw.classifications where model = 'remote'"
        ).fetchone()
    assert distinct == (remote_run.counts["requests"], asked) and remote_run.counts["requests"] < asked
    assert server.counters.requests >= remote_run.counts["requests"]
    values = {v for mapping in vault_values(database_url).values() for v in mapping.values() if len(v) > 2}
    assert values
    bodies = server.bodies()
    leaked = [v for v in values for body in bodies if v in body]
    assert not leaked


def test_invented_content_is_stored_untrusted_with_its_audit(remote_run, database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        untrusted, requests = conn.execute(
            "select count(*), count(distinct request_key) from raw.classifications "
            "where model = 'remote' and not is_trusted"
        ).fetchone()
        audit = conn.execute("select kind, value from raw.llm_audit where model = 'remote'").fetchall()
        statuses = conn.execute(
            "select status, count(*) from raw.llm_calls where model = 'remote' group by 1"
        )
        statuses = dict(statuses.fetchall())
        confidences = conn.execute(
            "select count(*) filter (where call_type_confidence is not null) from raw.classifications "
            "where model = 'remote'"
        ).fetchone()[0]
    # one answer invented an id: every recording that shared its request is untrusted, nothing else
    assert requests == 1 and remote_run.counts["untrusted"] == untrusted >= 1
    assert confidences == 0  # an LLM route gives no probability: only the audit decides its trust
    assert ("id", "CMD-9999999") in {(k, v) for k, v in audit}
    assert set(statuses) == {"ok"}


def test_rerun_asks_nothing(remote_run, fake_llm, database_url: str) -> None:
    from flows.classify import classify_calls

    server, path = fake_llm
    before = server.counters.requests
    again = classify_calls(database_url, settings(llm_config=path, llm_model="remote"))
    assert again.processed == 0 and again.skipped == remote_run.processed
    assert server.counters.requests == before


def test_offline_default_route_agrees_with_the_truth(redacted, transcripts: dict, database_url: str) -> None:
    """The default route (the local classifier behind litellm) on the generator's calls: the call type
    of answered calls equals the scripted intent, and calls nobody answered are type 0."""
    from flows.classify import classify_calls

    result = classify_calls(database_url, settings())
    assert result.processed > 0 and result.counts["failed"] == 0
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "select sha256, call_type from raw.classifications where model like 'classifier@%'"
        ).fetchall()
        confidences = [
            r[0]
            for r in conn.execute(
                "select call_type_confidence from raw.classifications where model like 'classifier@%'"
            )
        ]
    # the offline route stores the probability of each call type it gives (what the verdict's trust reads)
    assert len(confidences) == len(rows) and all(c is not None and 0.2 <= c <= 1 for c in confidences)
    answered = [(transcripts[sha], t) for sha, t in rows if transcripts[sha]["outcome"] == "answered"]
    others = [(transcripts[sha], t) for sha, t in rows if transcripts[sha]["outcome"] != "answered"]
    assert answered and others
    assert sum(int(row["intent"]) == t for row, t in answered) / len(answered) >= 0.9
    assert sum(t == 0 for _, t in others) / len(others) >= 0.9


def test_a_retrained_classifier_classifies_again(
    redacted, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The offline route's answers are stored under its classifier file's digest: the same file asks
    nothing again; another file (a retrained classifier) classifies every recording again, beside the
    first one's rows."""
    from flows.classify import classify_calls
    from inference.local_llm import DEFAULT_MODEL_PATH

    first = classify_calls(database_url, settings())  # after the module's first offline run: nothing new
    assert first.processed == 0 and first.skipped > 0
    retrained = tmp_path / "call-classifier.json"
    retrained.write_text(DEFAULT_MODEL_PATH.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    monkeypatch.setenv("CALLAUDIT_CLASSIFIER_MODEL", str(retrained))
    again = classify_calls(database_url, settings())
    assert again.processed == first.skipped and again.skipped == 0
    assert again.model_id == f"classifier@{file_sha256(str(retrained))[:12]}" != first.model_id
    with psycopg.connect(database_url) as conn:
        models = dict(
            conn.execute("select model, count(*) from raw.classifications group by model").fetchall()
        )
    assert models[again.model_id] == models[first.model_id] == first.skipped
