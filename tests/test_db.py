"""The database decision and the migrations, on the real embedded PostgreSQL."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from warehouse.db import database_url as decide_database
from warehouse.db import discover_migrations, migrate


def test_database_url_prefers_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from flows.config import Settings

    monkeypatch.setenv("DATABASE_URL", "postgresql://someone@db.example:5432/warehouse")
    settings = Settings(state_dir=tmp_path)
    assert decide_database(settings) == "postgresql://someone@db.example:5432/warehouse"
    assert not (tmp_path / "pgdata").exists(), "no embedded server is started when DATABASE_URL is set"


def test_migrations_are_recorded_and_applied_once(database_url: str) -> None:
    assert migrate(database_url) == []
    with psycopg.connect(database_url) as conn:
        versions = [r[0] for r in conn.execute("select version from ops.schema_migrations order by 1")]
        assert versions == [m.version for m in discover_migrations()]
        assert conn.execute("select extversion from pg_extension where extname = 'vector'").fetchone()
        schemas = {r[0] for r in conn.execute("select nspname from pg_namespace")}
        assert {"raw", "vault", "ops", "marts"} <= schemas
        roles = {r[0] for r in conn.execute("select rolname from pg_roles where rolname like 'callaudit_%'")}
        assert roles == {"callaudit_pipeline", "callaudit_analyst", "callaudit_reviewer"}
        conn.execute("select '[1,2,3]'::vector(3) <-> '[1,2,4]'::vector(3)")


def test_a_new_migration_is_applied_and_an_edited_one_refused(database_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "sql"
    shutil.copytree(Path(__file__).resolve().parent.parent / "sql", folder)
    (folder / "900_extra.sql").write_text("create table if not exists ops.extra (id int);")
    assert migrate(database_url, folder) == ["900"]
    assert migrate(database_url, folder) == []
    (folder / "900_extra.sql").write_text("create table if not exists ops.extra (id bigint);")
    with pytest.raises(RuntimeError, match="900_extra.sql was changed after it was applied"):
        migrate(database_url, folder)


def test_pipeline_role_cannot_be_read_by_analyst(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute("set role callaudit_pipeline")
        conn.execute(
            "insert into vault.pii_tokens (sha256, token, entity_type, value_hmac, value_encrypted, key_id) "
            "values ('s', '[PHONE_1]', 'PHONE', 'h', 'x', 'k')"
        )
    with psycopg.connect(database_url) as conn:
        conn.execute("set role callaudit_analyst")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from vault.pii_tokens")


def test_a_connection_lost_during_a_run_says_to_run_again_not_to_check_the_url(server_url: str) -> None:
    """The CLI's one line for a database error: a server that went away mid-run (stopped, restarted) is not a
    wrong DATABASE_URL; the next run resumes."""
    from cli.main import database_error

    with (
        psycopg.connect(server_url, autocommit=True) as victim,
        psycopg.connect(server_url, autocommit=True) as admin,
    ):
        admin.execute("select pg_terminate_backend(%s)", [victim.info.backend_pid])
        with pytest.raises(psycopg.OperationalError) as lost:
            victim.execute("select 1")
    assert "lost during the run" in database_error(lost.value)
    assert "run the same command" in database_error(lost.value)
    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect("postgresql://nobody@127.0.0.1:1/none", connect_timeout=2)
    assert "Check DATABASE_URL" in database_error(refused.value)
    assert "lost during the run" not in database_error(refused.value)


def test_the_current_row_of_a_recording_is_the_one_stages_and_marts_use(database_url: str) -> None:
    """raw.current_* (sql/014): the newest analysis, the newest whole-call transcript, the newest redaction
    of *that* transcript (not a newer redaction of an older model's transcript), the newest classification."""
    sha = "view-test-recording"
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "insert into raw.audio_analysis (sha256, detector_version, outcome, outcome_confidence, "
            "ring_bursts, voicemail_beeps, sit_tones, analysed_at) values "
            "(%s, 'tones-1', 'answered', 1, 1, 0, 0, '2026-11-01'), "
            "(%s, 'tones-2', 'voicemail', 1, 2, 1, 0, '2026-11-02')",
            [sha, sha],
        )
        conn.execute(
            "insert into raw.transcripts (sha256, model_id, chunking_id, channel, text, created_at) values "
            "(%s, 'old', 'c', 'dialogue', 'old words', '2026-11-01'), "
            "(%s, 'new', 'c', 'agent', 'agent only', '2026-11-03'), "
            "(%s, 'new', 'c', 'dialogue', 'new words', '2026-11-02')",
            [sha, sha, sha],
        )
        conn.execute(
            "insert into raw.redacted_transcripts (sha256, asr_model_id, chunking_id, channel, "
            "redactor_version, text, entities, created_at) values "
            "(%s, 'new', 'c', 'dialogue', 'pii-1', 'new words', 0, '2026-11-02'), "
            "(%s, 'old', 'c', 'dialogue', 'pii-2', 'old words', 0, '2026-11-05')",
            [sha, sha],
        )
        conn.execute(
            "insert into raw.classifications "
            "(sha256, model, prompt_version, request_key, is_trusted, created_at) values"
            "  (%s, 'a', 'p1', 'k1', true, '2026-11-01'), (%s, 'b', 'p1', 'k2', true, '2026-11-04')",
            [sha, sha],
        )
        current = conn.execute(
            """select a.detector_version, t.model_id, t.channel, r.asr_model_id, r.redactor_version, c.model
               from raw.current_audio_analysis a
               join raw.current_transcripts t using (sha256)
               join raw.current_redacted_transcripts r using (sha256)
               join raw.current_classifications c using (sha256)
               where a.sha256 = %s""",
            [sha],
        ).fetchall()
        conn.rollback()
    assert current == [("tones-2", "new", "dialogue", "new", "pii-1", "b")]


def test_statistics_are_gathered_for_what_was_loaded_before_dbt_plans(database_url: str) -> None:
    from warehouse.db import refresh_statistics

    with psycopg.connect(database_url) as conn:
        conn.execute("create table raw.statistics_probe (n integer)")
        conn.execute("insert into raw.statistics_probe select generate_series(1, 5000)")
    reltuples = "select reltuples from pg_class where oid = 'raw.statistics_probe'::regclass"
    with psycopg.connect(database_url) as conn:
        assert conn.execute(reltuples).fetchone()[0] < 0  # never analysed
    assert "raw.statistics_probe" in refresh_statistics(database_url)
    with psycopg.connect(database_url) as conn:
        assert conn.execute(reltuples).fetchone()[0] == 5000
        conn.execute("drop table raw.statistics_probe")


def test_the_embedded_server_gets_shared_buffers_sized_to_the_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server start_embedded starts has an eighth of the machine's memory (128 MB to 2 GB) as shared buffers
    (PostgreSQL's 128 MB made every HNSW look-up evict pages past ~60,000 embeddings); one whose data folder
    says otherwise is restarted once with that size; one found running is left alone."""
    from warehouse import db

    pgdata = tmp_path / "pgdata"

    def shared_buffers_mb(url: str) -> int:
        with psycopg.connect(url) as conn:
            return db.shared_buffers_mb(conn)

    try:
        url = db.start_embedded(pgdata)
        assert shared_buffers_mb(url) == db.embedded_shared_buffers_mb()
        with psycopg.connect(url, autocommit=True) as conn:  # as a data folder of an earlier version
            conn.execute("alter system set shared_buffers = '64MB'")
        db.stop_embedded(pgdata)
        monkeypatch.setattr(db, "embedded_shared_buffers_mb", lambda: 192)
        url = db.start_embedded(pgdata)
        assert shared_buffers_mb(url) == 192
        monkeypatch.setattr(db, "embedded_shared_buffers_mb", lambda: 256)
        assert shared_buffers_mb(db.start_embedded(pgdata)) == 192, "a running server is not restarted"
    finally:
        db.stop_embedded(pgdata)
    assert 128 <= db.embedded_shared_buffers_mb() <= 2048
