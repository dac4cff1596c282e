"""`callaudit run` as a user starts it: a quiet terminal (the stages' lines, the verdict table, where to look
next; no warning, no library dump), every other line in the log file, and a re-run that inserts nothing and
prints the same verdicts."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from tests.conftest import DAY, CliRuns

TERMINAL_LINES_BESIDES_TABLE = 40
TABLE_CHARS = frozenset("┃│┏┓┗┛┡┩━─╇┳┻╋┠┨┯┷┣┫┼")


def _table(lines: list[str]) -> list[str]:
    return [line for line in lines if set(line) & TABLE_CHARS]


def test_the_terminal_is_quiet(cli_runs: CliRuns) -> None:
    first = cli_runs.terminals[0]
    text = "\n".join(first)
    assert not [line for line in first if re.search(r"warn", line, re.I)], text
    for noise in ("Concurrency limits", "manifest_filepath", "OneLogger", "Finished in state", "dbt_"):
        assert noise not in text, f"{noise!r} reached the terminal:\n{text}"
    besides_table = [line for line in first if line.strip() and line not in _table(first)]
    assert len(besides_table) <= TERMINAL_LINES_BESIDES_TABLE, text
    assert any(line.strip().startswith(f"Verdicts for {DAY}") for line in first), text
    assert "Where to look next" in text


def test_every_dbt_node_of_the_run_is_a_completed_prefect_task(cli_runs: CliRuns) -> None:
    """The first run's dbt build (CALLAUDIT_DBT_NODE_TASKS at its default) shows every model, seed and data
    test as a Prefect task run that reached Completed: read from the Prefect database the run's own server
    kept in its fresh home, once the process is gone."""
    target = cli_runs.state / "dbt-target" / "manifest.json"
    manifest = json.loads(target.read_text(encoding="utf-8"))
    nodes = manifest["nodes"].values()
    built = sorted(n["name"] for n in nodes if n["resource_type"] in ("model", "seed", "test"))
    with sqlite3.connect(Path(cli_runs.env["PREFECT_HOME"]) / "prefect.db") as db:
        builds = db.execute(
            """select r.id from flow_run r join flow f on f.id = r.flow_id
               where f.name = 'dbt-build' order by r.start_time"""
        ).fetchall()
        assert len(builds) == 2, builds  # one per run
        tasks = db.execute("select name, state_name from task_run where flow_run_id = ?", builds[0])
        tasks = tasks.fetchall()
    names = sorted(name.split(" ", 1)[-1] for name, _ in tasks)  # "model order_compliance", "test unique_…"
    assert {"order_compliance", "call_attempts", "stg_raw__calls"} <= set(names)
    assert names == built
    assert {state for _, state in tasks} == {"Completed"}


def test_every_task_input_is_one_the_prefect_ui_can_show(cli_runs: CliRuns) -> None:
    """Prefect's UI reads task inputs of type constant, parameter and task_run only: one task run with a
    "flow_run" input (a value Prefect links to a subflow's result, such as dbt-build's node count) makes the
    run's Task Runs tab list nothing. Read from both runs' Prefect database."""
    with sqlite3.connect(Path(cli_runs.env["PREFECT_HOME"]) / "prefect.db") as db:
        rows = db.execute("select name, task_inputs from task_run").fetchall()
    kinds = {
        (name.rsplit("-", 1)[0], item["input_type"])
        for name, inputs in rows
        for items in json.loads(inputs).values()
        for item in items
    }
    assert {kind for _, kind in kinds} <= {"constant", "parameter", "task_run"}, sorted(kinds)
    assert ("publish-artifacts", "task_run") in kinds  # dependencies are still tracked (the database URL)


def test_the_log_file_has_what_the_terminal_leaves_out(cli_runs: CliRuns) -> None:
    logged = (cli_runs.state / "logs" / "callaudit.log").read_text(encoding="utf-8")
    assert "Finished in state Completed()" in logged
    assert "dbt build" in logged


def test_a_rerun_inserts_nothing_and_prints_the_same_verdicts(
    cli_runs: CliRuns,
) -> None:
    first, second = cli_runs.terminals
    assert _table(second) == _table(first)
    summary = next(line for line in second if re.match(r"\d+ rows inserted, ", line))
    assert summary.startswith("0 rows inserted, 0 recordings analysed, 0 transcribed"), summary


def test_evaluate_scores_the_run_against_the_sets_truth(cli_runs: CliRuns, tmp_path) -> None:
    """`callaudit evaluate` reads the warehouse and the truth: rules 1-3 right for every order (the demo's
    figure), no rule-4 verdict wrong, the JSON and the printed summary agree."""
    import csv
    import subprocess
    import sys

    out = tmp_path / "figures.json"
    done = subprocess.run(
        [str(Path(sys.executable).with_name("callaudit")), "evaluate", str(cli_runs.data), "--out", str(out)],
        env=cli_runs.env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    figures = json.loads(out.read_text(encoding="utf-8"))
    verdicts = figures["verdicts"]
    orders = verdicts["audited_orders"]
    with (cli_runs.data / "truth" / "orders.csv").open(encoding="utf-8", newline="") as fh:
        assert orders == sum(row["audited"] == "true" for row in csv.DictReader(fh))
    assert verdicts["rules_1_to_3_right"] == orders
    assert verdicts["rules"]["outcome_ok"].get("wrong", 0) == 0
    assert f"{orders} audited orders; rules 1–3 right for {orders}" in done.stdout
    assert figures["calls"] > 0 and figures["outcome_accuracy"] is not None


def test_sigterm_ends_a_run_and_the_prefect_server_it_started(
    server_url: str, tmp_path, migrated_prefect_db: Path
) -> None:
    """A scheduler, `kill` or a container stop ends `callaudit run` with SIGTERM: the command returns 143
    and the Prefect API server it started for itself goes with it (SIGTERM's default action would skip
    the exit hook that stops it)."""
    import signal
    import subprocess
    import time

    import psutil

    from tests.conftest import cli_run_setup

    _, env, command = cli_run_setup(server_url, tmp_path, "sigterm", 3, 78, migrated_prefect_db)
    run = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        server = None
        deadline = time.monotonic() + 300
        while server is None and run.poll() is None and time.monotonic() < deadline:
            children = psutil.Process(run.pid).children(recursive=True)
            server = next((c for c in children if "prefect.server.api.server" in " ".join(c.cmdline())), None)
            time.sleep(0.2)
        assert server is not None, "the run started no Prefect server"
        time.sleep(2)  # the run is under way on its server
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=120) == 128 + signal.SIGTERM
        _, alive = psutil.wait_procs([server], timeout=30)
        assert not alive, f"the Prefect server {server.pid} outlived the run"
    finally:
        if run.poll() is None:
            run.kill()
