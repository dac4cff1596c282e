"""dbt: build every model, seed and data test (through prefect-dbt, one Prefect task per dbt node, unless
``dbt_node_tasks`` is off), and the unit tests on request."""

from __future__ import annotations

import json
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from pydantic import SecretStr

from flows.config import REPO_ROOT, Settings, get_settings
from flows.runtime import stage_lock
from warehouse.db import dbt_env, plain_url, refresh_statistics, secret_url_parameter
from warehouse.pseudonyms import refresh_pseudonyms

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


@dataclass
class DbtSummary:
    success: bool
    nodes: int
    failed: list[str]
    node_seconds: list[float] = field(default_factory=list)  # each node's execution time


def dbt_vars(settings: Settings) -> str:
    contract = settings.contract()
    return json.dumps(
        {
            "timezone": settings.timezone,
            "audited_status": contract.audited_status,
            "similarity_threshold": settings.similarity_threshold,
            "classification_min_confidence": settings.classification_min_confidence,
        }
    )


@contextmanager
def dbt_environment(url: str):
    """The profile reads the database from the environment; set it for the duration of a dbt call."""
    values = dbt_env(url)
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@secret_url_parameter
@flow(name="dbt-build")
def dbt_build(database_url: SecretStr, select: str | None = None) -> DbtSummary:
    """``dbt build``: seeds, staging, intermediate, marts and their data tests. The unit tests are left out,
    as dbt recommends: their inputs are fixtures, so they say nothing about the day's data; they belong to
    development and CI (``dbt_unit_tests``, which tests/test_pipeline.py runs).

    One build at a time per warehouse (an advisory lock): dbt replaces tables, and it is not thread-safe
    within a process either (a backfill's days run side by side). The URL is a ``SecretStr`` (a plain
    string is accepted and converted) so that the flow run's stored parameters never show its password.
    The customers' pseudonyms and the raw tables' statistics are brought up to date first (before_build)."""
    url = plain_url(database_url)
    with stage_lock(url, "dbt-build"):
        before_build(url, get_settings())
        return _dbt_invoke(url, ["build", "--exclude-resource-type", "unit_test", *_select(select)])


def before_build(url: str, settings: Settings) -> None:
    """What a ``dbt build`` needs first: the customers' pseudonyms up to date (the marts show
    client_pseudonym, never the number) and statistics for what the loads and stages wrote (before dbt
    plans its joins)."""
    refresh_pseudonyms(url, settings)
    refresh_statistics(url)


@secret_url_parameter
@flow(name="dbt-unit-tests")
def dbt_unit_tests(database_url: SecretStr) -> DbtSummary:
    """``dbt test --select test_type:unit``: every dbt unit test (fixtures at each rule's boundary). They read
    the column types of the models they test, so the warehouse must have been built once."""
    url = plain_url(database_url)
    with stage_lock(url, "dbt-build"):
        return _dbt_invoke(url, ["test", "--select", "test_type:unit"])


def _select(select: str | None) -> list[str]:
    return ["--select", select] if select else []


def _dbt_invoke(database_url: str, command: list[str]) -> DbtSummary:
    settings = get_settings()
    args = [*command, "--vars", dbt_vars(settings)]
    with dbt_environment(database_url):
        if settings.dbt_node_tasks:
            result = _invoke_with_node_tasks(args, settings)
        else:  # dbt alone: its lines go to dbt's log file only, as with prefect-dbt
            result = _plain_dbt(args, settings, "--log-level", "none", "--log-level-file", "info")
    nodes = list(result.result or [])
    failed = [
        f"{r.node.resource_type} {r.node.name}: {r.message}"
        for r in nodes
        if str(r.status).lower() in ("error", "fail", "runtime error")
    ]
    summary = DbtSummary(
        success=bool(result.success) and not failed,
        nodes=len(nodes),
        failed=failed,
        node_seconds=[float(getattr(r, "execution_time", 0.0) or 0.0) for r in nodes],
    )
    if not summary.success:
        detail = "\n  ".join(failed) or str(result.exception)
        raise RuntimeError(f"dbt {command[0]} failed:\n  {detail}")
    get_run_logger().info("dbt %s: %d nodes succeeded", command[0], summary.nodes)
    return summary


def _invoke_with_node_tasks(args: list[str], settings: Settings):
    """prefect-dbt: one Prefect task per node, dbt's lines in the node tasks' logs."""
    from dbt_common.events.base_types import EventLevel
    from prefect_dbt import PrefectDbtRunner, PrefectDbtSettings

    _pass_settings_to_node_tasks_as_objects()
    runner = PrefectDbtRunner(
        settings=PrefectDbtSettings(
            project_dir=DBT_PROJECT_DIR,
            profiles_dir=DBT_PROJECT_DIR,
            target_path=settings.dbt_target_dir,
            log_level=EventLevel.INFO,
        ),
        raise_on_failure=False,
    )
    before = set(threading.enumerate())
    result = runner.invoke(args)
    _join_node_task_threads(before)
    return result


def _plain_dbt(args: list[str], settings: Settings, *log_flags: str):
    """``dbtRunner`` on this project, its profile and the configured target folder."""
    from dbt.cli.main import dbtRunner

    project = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    return dbtRunner().invoke([*args, *project, "--target-path", str(settings.dbt_target_dir), *log_flags])


def _serialize_context_in_process() -> dict[str, Any]:
    """``prefect.context.serialize_context()`` with the settings context kept as its objects (profile and
    settings) rather than their dump: the context is only ever hydrated in threads of this process."""
    from prefect.context import SettingsContext, serialize_context

    context = serialize_context()
    current = SettingsContext.get()
    if current is not None:
        context["settings_context"] = {"profile": current.profile, "settings": current.settings}
    return context


def _pass_settings_to_node_tasks_as_objects() -> None:
    """prefect-dbt 0.7.25 serialises the flow's context once per invoke and hydrates it in every node task's
    thread, twice per node, and again for each dbt log line outside a node. Hydrating a dumped settings
    context rebuilds Prefect's ``Settings`` from the environment and its TOML files each time: a build of
    242 nodes took 50-56 s in a flow against 10 s for dbt alone, and under load some node tasks never
    reported their final state. The threads share this process, so the settings objects themselves are
    passed instead (a Settings instance is taken as it is, not re-validated): 21-32 s, every node task
    Completed. prefect-dbt offers no option for this; it reads ``serialize_context`` from its runner module,
    which is where it is replaced (tests/test_cli_run.py checks that every node still gets its task)."""
    import prefect_dbt.core.runner as prefect_dbt_runner

    if not hasattr(prefect_dbt_runner, "serialize_context"):
        raise RuntimeError(
            "prefect_dbt.core.runner no longer has serialize_context: review "
            "flows/transform.py::_pass_settings_to_node_tasks_as_objects for this prefect-dbt version"
        )
    prefect_dbt_runner.serialize_context = _serialize_context_in_process


def _join_node_task_threads(before: set[threading.Thread], timeout_s: float = 60.0) -> None:
    """Wait for the node tasks prefect-dbt started during an invoke. prefect-dbt 0.7.25 runs each node's
    Prefect task in a daemon thread (``Thread-N (run_task)``) that it never joins: a build that ends before
    the last of them has reported its state leaves their events to be sent at interpreter exit, where they
    abort the process (``FATAL: exception not rethrown``, exit 134: seen with dbt's log level at WARN,
    where dbt ends sooner than its node tasks)."""
    deadline = time.monotonic() + timeout_s
    for thread in set(threading.enumerate()) - before:
        if thread.name.endswith("(run_task)"):
            thread.join(max(0.0, deadline - time.monotonic()))


def dbt_docs_generate(database_url: str) -> Path:
    """``dbt docs generate`` with plain dbt (through prefect-dbt it would create spurious node tasks)."""
    settings = get_settings()
    with dbt_environment(database_url):
        result = _plain_dbt(["docs", "generate", "--vars", dbt_vars(settings)], settings, "--quiet")
    if not result.success:
        raise RuntimeError(f"dbt docs generate failed: {result.exception}")
    return settings.dbt_target_dir / "index.html"
