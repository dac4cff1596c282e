"""Stopping ``callaudit serve`` while a ``daily-compliance`` run is in its inference stage: Ctrl-C (or
SIGTERM) gives the run a short grace period, then Prefect cancels it; a second Ctrl-C stops at once.
Either way ``serve`` returns promptly, no process it started survives, the run is not left Running (not even
when the server stalls during the stop), and the next start puts the interrupted run back in line, as it
does a run left by a serve killed outright. A Ctrl-C during the start leaves no server behind.

The warehouse is a fresh database per test on the session's embedded PostgreSQL; Prefect keeps its state in
SQLite under a temporary PREFECT_HOME, read directly once the server is gone."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import contextmanager, suppress
from pathlib import Path

import psutil
import pytest

from tests.conftest import DAY, create_database, seeded_prefect_home

REPO = Path(__file__).resolve().parent.parent
GRACE_S = 5  # CALLAUDIT_SERVE_GRACE_S of the tests: the inference stage of 40 orders takes far longer
READY_TIMEOUT_S = 600
IN_FLIGHT_TIMEOUT_S = 600
STALL_S = 25  # longer than serve's first pause and listing with their 5-s timeouts, and the grace


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Serve:
    """One ``callaudit serve`` in a session of its own, as a terminal would run it."""

    def __init__(
        self, home: Path, database_url: str, dataset: Path, grace: float, ready: bool = True
    ) -> None:
        self.home = home
        self.port = free_port()
        self.api_url = f"http://127.0.0.1:{self.port}/api"
        self.log = home / f"serve-{self.port}.log"
        self.seen: list[psutil.Process] = []  # every process seen under serve, for the teardown
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
        env.update(
            PREFECT_HOME=str(home),
            PREFECT_API_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{home / 'prefect.db'}",
            DATABASE_URL=database_url,
            CALLAUDIT_MANIFESTS_DIR=str(dataset / "manifests"),
            CALLAUDIT_CALLS_FILE=str(dataset / "calls.csv"),
            CALLAUDIT_AUDIO_ROOT=str(dataset / "audio"),
            CALLAUDIT_SERVE_GRACE_S=str(grace),
            # only the run a test triggers: no scheduled run (nor on-arrival tick) joins in
            PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED="false",
            PREFECT_WORKER_QUERY_SECONDS="2",
            PREFECT_LOGGING_LEVEL="INFO",
        )
        self._out = open(self.log, "w", encoding="utf-8")  # noqa: SIM115 (closed by close())
        self.process = subprocess.Popen(
            [str(Path(sys.executable).with_name("callaudit")), "serve", "--port", str(self.port)],
            cwd=REPO,
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: the test's Ctrl-C reaches it as a terminal's would
        )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while ready and "ready" not in self.text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()
                pytest.fail(f"callaudit serve did not get ready:\n{self.text()[-4000:]}")
            time.sleep(1)

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    @contextmanager
    def client(self):
        from prefect.client.orchestration import get_client
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings({PREFECT_API_URL: self.api_url}), get_client(sync_client=True) as client:
            yield client

    def processes(self) -> list[psutil.Process]:
        """serve, every process under it, and every process of the children's group."""
        me = psutil.Process(self.process.pid)
        under = me.children(recursive=True)
        groups = {os.getpgid(p.pid) for p in under if p.is_running()} | {self.process.pid}
        found = [me, *under, *(p for p in psutil.process_iter() if pgid(p) in groups and p not in under)]
        self.seen.extend(found)
        return found

    def interrupt(self, signum: int = signal.SIGINT) -> None:
        os.killpg(self.process.pid, signum)

    def wait(self, seconds: float) -> tuple[int, float]:
        """serve's exit code and how long it took to exit."""
        started = time.monotonic()
        try:
            code = self.process.wait(seconds)
        except subprocess.TimeoutExpired:
            pytest.fail(f"callaudit serve still running after {seconds:.0f} s:\n{self.text()[-4000:]}")
        return code, time.monotonic() - started

    def close(self) -> None:
        """Teardown: whatever a failed test left (serve, or a process it was seen with) is killed."""
        left = self.processes() if self.process.poll() is None else []
        for process in [*left, *self.seen]:
            with suppress(psutil.Error):
                if alive(process):
                    process.kill()
        self._out.close()

    def flow_run_state(self, run_id) -> tuple[str, str]:
        """(state type, state name) of a flow run in Prefect's SQLite database, once the server is gone."""
        with sqlite3.connect(self.home / "prefect.db") as db:
            row = db.execute(
                "select state_type, state_name from flow_run where id = ?", [str(run_id)]
            ).fetchone()
        assert row, f"flow run {run_id} is not in Prefect's database"
        return row


def pgid(process: psutil.Process) -> int | None:
    try:
        return os.getpgid(process.pid)
    except (ProcessLookupError, PermissionError):
        return None


def alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def resume(process: psutil.Process) -> None:
    with suppress(psutil.Error):
        process.resume()


def survivors(processes: list[psutil.Process]) -> list[str]:
    left = []
    for process in processes:
        with suppress(psutil.Error):
            if alive(process):
                left.append(f"{process.pid} {' '.join(process.cmdline()[:4])}")
    return left


@pytest.fixture()
def start_serve(server_url: str, dataset: Path, tmp_path: Path, migrated_prefect_db: Path):
    """Start ``callaudit serve`` (same PREFECT_HOME on every call of one test, seeded with a migrated
    database) with a fresh warehouse."""
    database_url = create_database(server_url, prefix="stop")
    seeded_prefect_home(tmp_path, migrated_prefect_db)
    started: list[Serve] = []

    def start(grace: float = GRACE_S, ready: bool = True) -> Serve:
        serve = Serve(tmp_path, database_url, dataset, grace, ready)
        started.append(serve)
        return serve

    yield start
    for serve in started:
        serve.close()


def trigger_until_inferring(serve: Serve):
    """Trigger daily-compliance for the data set's day; return its flow run once the run is Running and its
    inference stage (the infer-calls subflow) has started."""
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterParentFlowRunId,
    )
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: serve.api_url}):
        run = run_deployment(
            "daily-compliance/daily-compliance", parameters={"date": DAY.isoformat()}, timeout=0
        )
    deadline = time.monotonic() + IN_FLIGHT_TIMEOUT_S
    while time.monotonic() < deadline:
        with serve.client() as client:
            current = client.read_flow_run(run.id)
            inferring = client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=["infer-calls"])),
                flow_run_filter=FlowRunFilter(
                    parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[run.id]),
                    state={"type": {"any_": ["RUNNING"]}},
                ),
            )
        assert not current.state.is_final(), (
            f"the run ended before inference: {current.state}\n{serve.text()}"
        )
        if current.state.is_running() and inferring:
            return current
        time.sleep(1)
    pytest.fail(
        f"the run did not reach its inference stage in {IN_FLIGHT_TIMEOUT_S} s:\n{serve.text()[-4000:]}"
    )


def stop_in_grace(serve: Serve, run, signum: int) -> float:
    """Send ``signum`` to serve with ``run`` in flight; check serve's stop; return how long it took."""
    processes = serve.processes()
    assert len(processes) >= 4, "serve, server, worker and the flow run's process"
    serve.interrupt(signum)
    code, seconds = serve.wait(GRACE_S + 15)
    log = " ".join(serve.text().split())
    assert code == 0, log[-4000:]
    stopping = log[log.index("received: stopping") :]  # a busy server may name the run a little later
    assert f"waiting up to {GRACE_S} s for" in stopping and run.name in stopping, stopping
    assert not survivors(processes), f"left running: {survivors(processes)}"
    state = serve.flow_run_state(run.id)
    assert state[0] in ("CANCELLED", "CRASHED"), state
    print(
        f"{signal.Signals(signum).name}: serve returned in {seconds:.1f} s (grace {GRACE_S} s), run {state}"
    )
    return seconds


def wait_resumed(serve: Serve, run):
    """The flow run once the worker runs it a second time (``run_count`` 2, Running)."""
    deadline = time.monotonic() + IN_FLIGHT_TIMEOUT_S
    while True:
        with serve.client() as client:
            resumed = client.read_flow_run(run.id)
        if resumed.run_count >= 2 and resumed.state.is_running():
            return resumed
        assert time.monotonic() < deadline, f"not resumed: {resumed.state}\n{serve.text()[-3000:]}"
        time.sleep(1)


def test_sigterm_with_a_run_in_flight_cancels_it_and_leaves_no_process(start_serve) -> None:
    serve = start_serve()
    stop_in_grace(serve, trigger_until_inferring(serve), signal.SIGTERM)


def test_a_stop_while_the_server_stalls_still_records_the_run_in_flight(start_serve) -> None:
    """The Prefect server answers nothing for 25 s from the signal (stopped, as a server starved of CPU
    by the runs would be): serve waits for the runs it cannot see, then kills them and records them once
    the server answers; it never takes a silent server for an idle worker."""
    serve = start_serve()
    run = trigger_until_inferring(serve)
    processes = serve.processes()
    server = next(p for p in processes[1:] if "server" in p.cmdline() and "start" in p.cmdline())
    server.suspend()
    threading.Timer(STALL_S, resume, [server]).start()
    serve.interrupt(signal.SIGTERM)
    code, seconds = serve.wait(STALL_S + 60)
    log = " ".join(serve.text().split())
    print(f"stalled server: serve returned in {seconds:.1f} s, run {serve.flow_run_state(run.id)}")
    assert code == 0, log[-4000:]
    assert "the API did not answer" in log, log[-4000:]
    assert f"waiting up to {GRACE_S} s for the flow runs in flight to finish" in log, log[-4000:]
    assert not survivors(processes), f"left running: {survivors(processes)}"
    assert serve.flow_run_state(run.id)[0] in ("CANCELLED", "CRASHED"), log[-4000:]


def test_a_serve_killed_outright_leaves_its_run_to_the_next_start(start_serve) -> None:
    """SIGKILL to serve and everything it started (no stop at all): the run stays Running in Prefect's
    database with no process; the next start records it Crashed and puts it back in line."""
    first = start_serve()
    run = trigger_until_inferring(first)
    processes = first.processes()
    for process in processes:
        with suppress(psutil.Error):
            process.kill()
    first.wait(10)
    assert first.flow_run_state(run.id)[0] == "RUNNING"

    second = start_serve()
    said = " ".join(second.text().split())
    assert f"left in flight by a serve that did not stop: {run.name}" in said, said[-3000:]
    assert f"resuming 1 flow run(s) interrupted by the last stop: {run.name}" in said, said[-3000:]
    resumed = wait_resumed(second, run)
    stop_in_grace(second, resumed, signal.SIGINT)


def test_ctrl_c_cancels_the_run_the_next_start_resumes_it_a_second_ctrl_c_stops_at_once(start_serve) -> None:
    first = start_serve()
    run = trigger_until_inferring(first)
    stop_in_grace(first, run, signal.SIGINT)

    # the next start puts the same flow run back in line, and the worker runs it again
    second = start_serve(grace=120)
    resumed_line = f"resuming 1 flow run(s) interrupted by the last stop: {run.name}"
    assert resumed_line in " ".join(second.text().split())
    resumed = wait_resumed(second, run)
    assert "interrupted-by-serve-stop" not in resumed.tags

    # Ctrl-C, then Ctrl-C again during the 120 s grace period: serve stops at once
    processes = second.processes()
    second.interrupt()
    deadline = time.monotonic() + 60
    while "waiting up to 120 s" not in second.text():
        assert time.monotonic() < deadline, second.text()[-4000:]
        time.sleep(0.2)
    second.interrupt()
    code, seconds = second.wait(5)
    print(f"second Ctrl-C: serve returned in {seconds:.1f} s")
    assert code == 130, second.text()[-4000:]
    assert not survivors(processes), f"left running: {survivors(processes)}"
    assert second.flow_run_state(run.id) == ("CRASHED", "Crashed")


def test_ctrl_c_during_the_start_leaves_no_server(start_serve) -> None:
    """A start interrupted before it is ready (the server still coming up) reaps what it started."""
    from flows.serve import healthy

    serve = start_serve(ready=False)
    deadline = time.monotonic() + 120
    while not any("server" in p.cmdline() for p in serve.processes()[1:] if p.is_running()):
        assert serve.process.poll() is None and time.monotonic() < deadline, serve.text()[-3000:]
        time.sleep(0.2)
    time.sleep(2)  # the server busy starting
    processes = serve.processes()
    serve.interrupt()
    code, seconds = serve.wait(5)
    print(f"Ctrl-C during the start: serve returned in {seconds:.1f} s")
    assert code == 130, serve.text()[-3000:]
    assert not survivors(processes), f"left running: {survivors(processes)}"
    assert not healthy(serve.api_url)
