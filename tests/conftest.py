"""Shared fixtures: one embedded PostgreSQL for the session (a fresh database per test module), a real
Prefect API (test harness), a synthetic data set made once by the project's own generator, and one
warehouse built from it by one cold daily run, shared read-only by the modules that read its results and
copied (``create database … template``) for those that change it."""

from __future__ import annotations

import base64
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

# Before anything imports flows/prefect: all state of the test session lives in a temporary folder.
_STATE = Path(tempfile.mkdtemp(prefix="callaudit-tests-"))
os.environ["CALLAUDIT_STATE_DIR"] = str(_STATE)
os.environ.pop("DATABASE_URL", None)
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# dbt builds as one invocation (about 5 s instead of 25 s for 242 nodes) in this process and the servers it
# starts; the `callaudit run` processes a test starts as a user would inherit no CALLAUDIT_ variable, so
# prefect-dbt's node tasks are built there, and test_cli_run checks them node by node.
os.environ["CALLAUDIT_DBT_NODE_TASKS"] = "false"

# The deployment settings every test starts from; a module that exports its own (test_guards' limits) must
# not shape what the session shares: see ``session_settings``.
_SESSION_SETTINGS = {k: v for k, v in os.environ.items() if k.startswith("CALLAUDIT_")}

import psycopg  # noqa: E402
import pytest  # noqa: E402
from psycopg.conninfo import conninfo_to_dict, make_conninfo  # noqa: E402

import flows  # noqa: E402,F401  (offline environment)

DAY = date(2026, 11, 20)
SEED = 5
EMBEDDED_PGDATA = _STATE / "pgdata"  # the session's embedded PostgreSQL (server log: EMBEDDED_PGDATA / "log")


# `make test-fast` (-m "not slow") leaves out the modules that run the whole daily flow, start servers or load
# the big models; `make test` and CI run everything. Marked here, by module, in one place.
SLOW_MODULES = {
    "test_asr",
    "test_asr_model",
    "test_asr_families",
    "test_asr_lm",
    "test_bi_marts",
    "test_classification_flow",
    "test_classifier_heard",
    "test_cli_run",
    "test_docs",
    "test_embeddings",
    "test_evidence",
    "test_guards",
    "test_hostile_inputs",
    "test_other_generator",
    "test_pipeline",
    "test_qa_incremental",
    "test_redaction",
    "test_report",
    "test_review",
    "test_s3",
    "test_scaleout",
    "test_secrets",
    "test_similar_calls",
}
E2E_MODULES = {"test_serve_e2e", "test_serve_stop", "test_ui_port"}  # a served Prefect API, a browser


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        if module in E2E_MODULES:
            item.add_marker(pytest.mark.e2e)
        if module in SLOW_MODULES | E2E_MODULES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def server_url() -> str:
    from warehouse.db import start_embedded, stop_embedded

    url = start_embedded(EMBEDDED_PGDATA)
    yield url
    stop_embedded(EMBEDDED_PGDATA)


def create_database(server_url: str, prefix: str = "t") -> str:
    """A new, migrated database on the test server; its URL."""
    from warehouse.db import migrate

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = make_conninfo(server_url, dbname=name)
    migrate(url)
    return url


def clone_database(server_url: str, template_url: str, prefix: str = "t_clone") -> str:
    """A copy of the database at ``template_url`` (``create database … template …``: seconds, where a
    daily run takes minutes); its URL. The template must have no other connection while it is copied: the
    idle ones a finished run may leave behind (a pool, a GX engine) are closed first."""
    template = conninfo_to_dict(template_url)["dbname"]
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            """select pg_terminate_backend(pid) from pg_stat_activity
               where datname = %s and pid <> pg_backend_pid()""",
            [template],
        )
        conn.execute(f'create database "{name}" template "{template}"')
    return make_conninfo(server_url, dbname=name)


@pytest.fixture(scope="session")
def migrated_prefect_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Prefect's SQLite database, migrated once for the session (``prefect server database upgrade``)."""
    home = tmp_path_factory.mktemp("prefect-home-template")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(home)
    done = subprocess.run(
        [str(Path(sys.executable).with_name("prefect")), "server", "database", "upgrade", "-y"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return home / "prefect.db"


def seeded_prefect_home(home: Path, migrated_db: Path) -> Path:
    """``home`` with a copy of ``migrated_db``: a Prefect server started there skips the migrations a fresh
    home runs first (about 7 s of every start on 2 cores), as on a user's second day. ``callaudit run``'s
    first start in a fresh home stays covered by test_cli_run."""
    home.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(migrated_db) as source, sqlite3.connect(home / "prefect.db") as copy:
        source.backup(copy)
    return home


@contextmanager
def session_settings() -> Iterator[None]:
    """``CALLAUDIT_*`` as the session started, for the block: the shared warehouse is built by whichever
    module asks for it first, and a module-scoped fixture of that module may have exported settings of its
    own (test_guards cuts transcripts for the LLM at 120 characters), which would otherwise become the
    warehouse's (its classifications asked with cut transcripts, asked again by a later module's run)."""
    mp = pytest.MonkeyPatch()
    for key in [k for k in os.environ if k.startswith("CALLAUDIT_") and k not in _SESSION_SETTINGS]:
        mp.delenv(key)
    for key, value in _SESSION_SETTINGS.items():
        mp.setenv(key, value)
    try:
        yield
    finally:
        mp.undo()


@contextmanager
def exported(**variables: str) -> Iterator[None]:
    """Environment variables set for the block (``DATABASE_URL``, ``CALLAUDIT_…``), restored after it."""
    mp = pytest.MonkeyPatch()
    for key, value in variables.items():
        mp.setenv(key, value)
    try:
        yield
    finally:
        mp.undo()


def run_dbt(url: str, *args: str, extra_vars: dict[str, Any] | None = None) -> Any:
    """``dbt <args>`` on the database at ``url`` with the pipeline's vars (and ``extra_vars``), quietly and in
    this process (no Prefect task per node); dbt's result."""
    from flows.config import get_settings
    from flows.transform import _plain_dbt, dbt_environment, dbt_vars

    settings = get_settings()
    dbt_variables = json.dumps({**json.loads(dbt_vars(settings)), **(extra_vars or {})})
    with dbt_environment(url):
        return _plain_dbt([*args, "--vars", dbt_variables], settings, "--quiet")


def dbt_succeeds(url: str, *args: str, extra_vars: dict[str, Any] | None = None) -> Any:
    """``run_dbt``, failing the test with the nodes' messages unless every node succeeded."""
    result = run_dbt(url, *args, extra_vars=extra_vars)
    assert result.success, [str(r.message) for r in result.result or [] if r.message]
    return result


def rows_with_writer(url: str, table: str, columns: str) -> dict[Any, tuple]:
    """Each row of ``table`` by its first column, as (the transaction that wrote it last (xmin), *columns):
    an incremental model's untouched rows keep their xmin."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(f"select xmin::text, {columns} from {table}").fetchall()
    return {row[1]: row for row in rows}


def without_writer(rows: dict[Any, tuple]) -> dict[Any, tuple]:
    """``rows_with_writer``'s rows without the xmin: what a full build must give again."""
    return {key: row[1:] for key, row in rows.items()}


@pytest.fixture(scope="module")
def database_url(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh, migrated database for one test module, also exported as DATABASE_URL. Its daily runs write
    their reports to a folder of the module's: the state dir's reports are the shared warehouse's."""
    url = create_database(server_url)
    with exported(DATABASE_URL=url, CALLAUDIT_REPORT_DIR=str(tmp_path_factory.mktemp("module-reports"))):
        yield url


@pytest.fixture(scope="session")
def prefect_api():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="session")
def synth_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 40-order data set made once per session (do not modify: use ``dataset``)."""
    from synth import generate

    out = tmp_path_factory.mktemp("synth40")
    generate(out, orders=40, seed=SEED, day=DAY, progress=False)
    return out


@pytest.fixture(scope="module")
def dataset(synth_set: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the data set a test module may edit (manifests and calls copied, audio shared)."""
    out = tmp_path_factory.mktemp("dataset")
    shutil.copytree(synth_set / "manifests", out / "manifests")
    shutil.copytree(synth_set / "truth", out / "truth")
    shutil.copy(synth_set / "calls.csv", out / "calls.csv")
    (out / "audio").symlink_to(synth_set / "audio")
    return out


def run_daily(dataset: Path):
    """The daily flow for DAY on a data set's folders, on the database DATABASE_URL names."""
    from flows.daily import daily_compliance

    return daily_compliance(
        date=DAY,
        manifests_dir=str(dataset / "manifests"),
        calls_file=str(dataset / "calls.csv"),
        audio_root=str(dataset / "audio"),
    )


@dataclass(frozen=True)
class Warehouse:
    """The database one cold daily run on the session's synth set built, and that run's summary."""

    url: str
    run: Any  # flows.daily's run summary


@pytest.fixture(scope="session")
def warehouse(server_url: str, synth_set: Path, prefect_api: None) -> Warehouse:
    """One cold ``daily_compliance`` run on ``synth_set`` (ASR, redaction, classification, embeddings, dbt,
    GX), made once per session. Read-only: its one run is in ``ops.runs``, its report is the state dir's.
    A test that changes data works on ``warehouse_clone``."""
    url = create_database(server_url, "t_warehouse")
    with session_settings(), exported(DATABASE_URL=url):
        summary = run_daily(synth_set)
    return Warehouse(url, summary)


@pytest.fixture(scope="module")
def warehouse_url(warehouse: Warehouse) -> str:
    """The shared warehouse for a module that only reads it, exported as DATABASE_URL."""
    with exported(DATABASE_URL=warehouse.url):
        yield warehouse.url


@pytest.fixture(scope="module")
def warehouse_clone(server_url: str, warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A module's own copy of the shared warehouse, exported as DATABASE_URL for the rest of the module
    (re-runs, added rows, corruption). Its runs write their reports to a folder of the module's, so the
    state dir keeps the warehouse run's report."""
    url = clone_database(server_url, warehouse.url)
    reports = tmp_path_factory.mktemp("clone-reports")
    with exported(DATABASE_URL=url, CALLAUDIT_REPORT_DIR=str(reports)):
        yield url


@dataclass(frozen=True)
class CliRuns:
    """Two runs of ``callaudit run`` on a small data set, as a user starts them (a process of its own, an
    ephemeral Prefect, the warehouse on ``env['DATABASE_URL']``)."""

    terminals: tuple[list[str], list[str]]
    data: Path
    state: Path
    env: dict[str, str]


def cli_run_setup(
    server_url: str, root: Path, database: str, orders: int, seed: int, migrated_db: Path | None = None
) -> tuple[Path, dict[str, str], list[str]]:
    """A generated data set under ``root``, the environment of a user's terminal (a database of its own,
    its own Prefect home and state folder, no inherited PREFECT_/CALLAUDIT_ variable) and the
    ``callaudit run`` command that audits the data set. The Prefect home is fresh, or seeded with
    ``migrated_db``."""
    from synth import generate

    data = root / "data"
    generate(data, orders=orders, seed=seed, day=DAY, progress=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "CALLAUDIT_"))}
    env.update(
        DATABASE_URL=create_database(server_url, database),
        PREFECT_HOME=str(
            seeded_prefect_home(root / "prefect-home", migrated_db) if migrated_db else root / "prefect-home"
        ),
        CALLAUDIT_STATE_DIR=str(root / "state"),
        CALLAUDIT_VAULT_KEY=base64.b64encode(bytes(range(32))).decode(),
    )
    command = [
        str(Path(sys.executable).with_name("callaudit")), "run", "--manifests", str(data / "manifests"),
        "--calls", str(data / "calls.csv"), "--audio-root", str(data / "audio"), "--date", DAY.isoformat(),
    ]  # fmt: skip
    return data, env, command


@pytest.fixture(scope="session")
def cli_runs(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> CliRuns:
    root = tmp_path_factory.mktemp("cli-run")
    data, env, command = cli_run_setup(server_url, root, "cli", orders=10, seed=77)
    env["COLUMNS"] = "120"
    terminals = []
    for _ in range(2):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1500, check=False)
        terminal = (done.stdout + done.stderr).splitlines()
        assert done.returncode == 0, "\n".join(terminal[:80] + ["…"] + terminal[-40:])
        terminals.append(terminal)
    return CliRuns((terminals[0], terminals[1]), data, root / "state", env)
