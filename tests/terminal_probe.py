"""Run by tests/test_terminal.py in a fresh process, as `callaudit run` runs its flow: the terminal filter is
installed before Prefect has configured its logging, then a flow with a task logs stage lines (``--fail``:
and a last task raises)."""

from __future__ import annotations

import sys
from pathlib import Path

# flows first: it sets the environment Prefect reads (offline, start-up timeouts)
from flows.terminal import quiet_terminal  # isort: skip
from prefect import flow, get_run_logger, task  # isort: skip


@task
def analyse() -> None:
    get_run_logger().info("audio analysis: 3 analysed, 0 quarantined")


@task
def lose_the_database() -> None:
    raise RuntimeError("terminating connection due to administrator command")


@flow
def daily(fail: bool = False) -> None:
    for _ in range(3):
        analyse()
    get_run_logger().warning("2 manifest rows rejected")
    if fail:
        lose_the_database()


if __name__ == "__main__":
    flags = sys.argv[2:]
    quiet_terminal(Path(sys.argv[1]), verbose="-v" in flags)
    try:
        daily(fail="--fail" in flags)
    except RuntimeError:
        print("error: the run stopped")
