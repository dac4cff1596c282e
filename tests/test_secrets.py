"""Secrets stay secret and the vault key is checked.

(a) The warehouse password (in DATABASE_URL) and the AWS keys never reach a flow run's parameters, its
logs, Prefect's database, the artifacts or the state folder (GX's configuration included), when the
subflows that take the warehouse URL run: ingest, infer-calls, dbt-build and the GX checkpoint.
(b) The vault refuses a missing key when it holds rows and a wrong key with a one-line error naming the
expected fingerprint; ``callaudit vault rotate`` re-encrypts every row under a new key.
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from tests.conftest import DAY, create_database

PASSWORD = "pw-" + uuid.uuid4().hex  # unique: a hit anywhere can only come from this run
AWS_KEY_ID = "AKIA" + uuid.uuid4().hex[:16].upper()
AWS_SECRET = "aws-secret-" + uuid.uuid4().hex
SECRETS = (PASSWORD, AWS_KEY_ID, AWS_SECRET)


# ------------------------------------------------------------------------------------------- (a) secrets
@pytest.fixture(scope="module")
def secret_url(server_url: str, database_url: str):
    """The module's database reached as a login role with a password, exported as DATABASE_URL, with AWS
    keys in the environment too (the embedded server trusts local connections: the password is only in
    the URL, which is what must not leak)."""
    role = f"secret_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"create role {role} login superuser password '{PASSWORD}'")
    url = make_conninfo(database_url, user=role, password=PASSWORD)
    saved = {k: os.environ.get(k) for k in ("DATABASE_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ.update(DATABASE_URL=url, AWS_ACCESS_KEY_ID=AWS_KEY_ID, AWS_SECRET_ACCESS_KEY=AWS_SECRET)
    yield url
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def small_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from synth import generate

    out = tmp_path_factory.mktemp("secrets-set")
    generate(out, orders=4, seed=11, day=DAY, progress=False)
    return out


@pytest.fixture()
def info_logs():
    """Prefect run loggers at INFO for the test (the session runs them at WARNING): every line is checked."""
    names = ("prefect", "prefect.flow_runs", "prefect.task_runs")
    saved = {n: logging.getLogger(n).level for n in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.INFO)
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def _files_holding(root: Path, secrets: tuple[str, ...], skip: tuple[Path, ...] = ()) -> list[str]:
    hits = []
    needles = [s.encode() for s in secrets]
    for path in root.rglob("*"):
        if not path.is_file() or path.is_symlink() or any(path.is_relative_to(s) for s in skip):
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        hits += [f"{path}: {s[:6]}…" for s, n in zip(secrets, needles, strict=True) if n in data]
    return hits


def test_no_secret_in_prefect_logs_artifacts_or_state(
    secret_url: str, small_set: Path, prefect_api, info_logs, capfd
) -> None:
    from prefect import get_client
    from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL, PREFECT_HOME

    from flows.config import get_settings
    from flows.daily import infer_calls
    from flows.ingest import ingest
    from flows.quality import gx_checkpoint
    from flows.transform import dbt_build

    settings = get_settings()
    assert settings.aws_secret_access_key == AWS_SECRET  # the settings do hold the secrets
    # infer-calls first, on the empty warehouse: nothing to do, but its parameters are recorded
    infer_calls(secret_url, 1)
    loaded = ingest(
        small_set / "manifests",
        small_set / "calls.csv",
        str(small_set / "audio"),
        day=DAY,
        database_url=secret_url,
    )
    assert loaded.rows_inserted > 0
    assert dbt_build(secret_url, select="stg_raw__calls").success
    # GX connects through its ${VAR} connection string, then fails on the marts not built here: only the
    # files GX wrote on the way matter
    with pytest.raises(Exception, match="marts.order_compliance"):
        gx_checkpoint(secret_url)

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs()
        mine = {r.name: r for r in runs if r.parameters.get("database_url") == "**********"}
        flows = {client.read_flow(r.flow_id).name for r in mine.values()}
        assert {"infer-calls", "ingest", "dbt-build"} <= flows
        infer = next(r for r in mine.values() if "shards" in r.parameters)
        assert set(infer.parameters) == {"database_url", "shards"}  # the settings are not a parameter
        stored = " ".join(str(r.parameters) for r in runs)
        logs = client.read_logs()
        artifacts = client.read_artifacts()
    assert len(logs) > 0
    seen = " ".join([stored, *(str(line.message) for line in logs), *(str(a.data) for a in artifacts)])
    assert [s[:6] for s in SECRETS if s in seen] == []
    out, err = capfd.readouterr()
    assert [s[:6] for s in SECRETS if s in out + err] == []

    # the same, byte for byte, in Prefect's database file, Prefect's home and the state folder (GX, dbt, logs)
    db_file = Path(PREFECT_API_DATABASE_CONNECTION_URL.value().split("///", 1)[1])
    assert _files_holding(db_file.parent, SECRETS) == []
    assert _files_holding(Path(PREFECT_HOME.value()), SECRETS) == []
    assert _files_holding(settings.state_dir, SECRETS, skip=(settings.pgdata,)) == []
    gx_config = next(settings.gx_dir.rglob("great_expectations.yml"))
    assert "${CALLAUDIT_GX_CONNECTION_STRING}" in gx_config.read_text()


def test_redact_url_masks_passwords() -> None:
    from warehouse.db import redact_url

    assert redact_url("postgresql://u:p%40ss@db:5432/x") == "postgresql://u:***@db:5432/x"
    assert redact_url("host=/tmp user=u password='a b' dbname=x") == "host=/tmp user=u password=*** dbname=x"
    assert redact_url("postgresql://u@db/x") == "postgresql://u@db/x"


# ------------------------------------------------------------------------------------------- (b) vault
@pytest.fixture()
def vault_db(server_url: str) -> str:
    return create_database(server_url, "vault")


def _settings(state: Path, key: str | None = None):
    from pydantic import SecretStr

    from flows.config import Settings

    return Settings(state_dir=state, vault_key=SecretStr(key) if key else None)


def _fill(url: str, settings, recordings: int = 3) -> dict[tuple[str, str], str]:
    """Vault rows through the pipeline's own path (open_vault + store); returns {(sha, token): value}."""
    from warehouse.vault import open_vault, store

    vault = open_vault(url, settings)
    values = {}
    with psycopg.connect(url) as conn:
        for i in range(recordings):
            sha = f"{i:064x}"
            entities = {f"[PERSON_{j}]": ("PERSON", f"Client {i}-{j}") for j in range(1, 3)}
            store(conn, vault.rows(sha, entities))
            values |= {(sha, token): value for token, (_, value) in entities.items()}
    return values


def test_missing_key_with_rows_refuses_and_never_makes_a_new_one(vault_db: str, tmp_path: Path) -> None:
    from warehouse.vault import VaultKeyError, open_vault

    settings = _settings(tmp_path)
    _fill(vault_db, settings)  # the empty vault made its key file
    key_file = tmp_path / "vault.key"
    assert key_file.exists() and key_file.stat().st_mode & 0o077 == 0
    key_file.unlink()
    with pytest.raises(VaultKeyError) as failure:
        open_vault(vault_db, settings)
    message = str(failure.value)
    assert "\n" not in message and "missing" in message and "6 rows" in message
    assert not key_file.exists()  # no new key behind the rows' back


def test_wrong_key_names_the_expected_fingerprint(vault_db: str, tmp_path: Path) -> None:
    from warehouse.vault import VaultKeyError, fingerprint, new_key, open_vault, vault_key

    good = _settings(tmp_path)
    _fill(vault_db, good)
    expected = fingerprint(vault_key(good))
    with pytest.raises(VaultKeyError) as failure:
        open_vault(vault_db, _settings(tmp_path, new_key()))
    message = str(failure.value)
    assert "\n" not in message and expected in message and message.startswith("wrong vault key")


def test_cli_run_refuses_a_wrong_key_in_one_line(vault_db: str, tmp_path: Path, monkeypatch, capsys) -> None:
    from cli.main import main
    from warehouse.vault import fingerprint, new_key, vault_key

    good = _settings(tmp_path)
    _fill(vault_db, good)
    monkeypatch.setenv("DATABASE_URL", vault_db)
    monkeypatch.setenv("CALLAUDIT_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("CALLAUDIT_VAULT_KEY", new_key())
    assert main(["vault", "reveal", "nope"]) == 1
    err = capsys.readouterr().out.strip()
    assert err.startswith("error: wrong vault key") and fingerprint(vault_key(good)) in err
    assert "InvalidTag" not in err and "Traceback" not in err


def test_rotate_from_key_file(vault_db: str, tmp_path: Path) -> None:
    from warehouse.vault import Vault, VaultKeyError, rotate, vault_key

    settings = _settings(tmp_path)
    values = _fill(vault_db, settings)
    old = Vault(vault_key(settings))
    done = rotate(vault_db, settings, show_key=lambda _: pytest.fail("a key file's key is not printed"))
    assert done.rows == len(values) and done.key_file == tmp_path / "vault.key"
    new = Vault(vault_key(settings))
    assert new.key_id == done.new_key_id != old.key_id
    assert (tmp_path / "vault.key").stat().st_mode & 0o077 == 0 and not (tmp_path / "vault.key.new").exists()
    with psycopg.connect(vault_db) as conn:
        rows = conn.execute(
            "select sha256, token, value_encrypted, key_id, value_hmac from vault.pii_tokens"
        ).fetchall()
    assert len(rows) == len(values)
    for sha, token, blob, key_id, value_hmac in rows:
        assert key_id == new.key_id
        assert new.decrypt(sha, token, blob) == values[(sha, token)]
        assert value_hmac == new.value_hmac(values[(sha, token)])
        with pytest.raises(VaultKeyError):
            old.decrypt(sha, token, blob, key_id)


def test_rotate_with_key_in_environment_prints_the_new_key(
    vault_db: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    from cli.main import main
    from warehouse.vault import Vault, _decode, new_key, open_vault

    old_key = new_key()
    values = _fill(vault_db, _settings(tmp_path, old_key))
    monkeypatch.setenv("DATABASE_URL", vault_db)
    monkeypatch.setenv("CALLAUDIT_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("CALLAUDIT_VAULT_KEY", old_key)
    assert main(["vault", "rotate"]) == 0
    printed = capsys.readouterr().out.strip()
    assert not (tmp_path / "vault.key").exists()
    new = open_vault(vault_db, _settings(tmp_path, printed))  # checks every row's key_id
    old = Vault(_decode(old_key, "old"))
    with psycopg.connect(vault_db) as conn:
        mapping = {
            (sha, token): new.decrypt(sha, token, blob)
            for sha, token, blob in conn.execute(
                "select sha256, token, value_encrypted from vault.pii_tokens"
            )
        }
    assert mapping == values and new.key_id != old.key_id


def test_a_failed_rotation_changes_nothing(vault_db: str, tmp_path: Path) -> None:
    """A row that cannot be decrypted (altered) stops the rotation: no row moved, the key file unchanged."""
    from warehouse.vault import VaultKeyError, rotate

    settings = _settings(tmp_path)
    values = _fill(vault_db, settings)
    key_before = (tmp_path / "vault.key").read_text()
    with psycopg.connect(vault_db) as conn:
        before = conn.execute(
            "select sha256, token, value_encrypted, key_id from vault.pii_tokens order by 1, 2"
        ).fetchall()
        sha, token = max(values)
        conn.execute(
            "update vault.pii_tokens set value_encrypted = value_encrypted || '\\x00'::bytea "
            "where sha256 = %s and token = %s",
            [sha, token],
        )
    with pytest.raises(VaultKeyError, match="does not decrypt"):
        rotate(vault_db, settings, show_key=print)
    with psycopg.connect(vault_db) as conn:
        after = conn.execute(
            "select sha256, token, value_encrypted, key_id from vault.pii_tokens order by 1, 2"
        ).fetchall()
    assert [r for r in after if (r[0], r[1]) != (sha, token)] == [
        r for r in before if (r[0], r[1]) != (sha, token)
    ]
    assert (tmp_path / "vault.key").read_text() == key_before and not (tmp_path / "vault.key.new").exists()
