"""Run by tests/test_terminal.py in a fresh process, as `callaudit run` runs its flow: the terminal filter is
installed before Prefect has configured its logging, then a flow with a task logs stage lines."""

from __future__ import annotations

import sys
from pathlib import Path

# flows first: it sets the environment Prefect reads (offline, start-up timeouts)
from flows.terminal import quiet_terminal  # isort: skip
from prefect import flow, get_run_logger, task  # isort: skip


@task
def analyse() -> None:
    get_run_logger().info("audio analysis: 3 analysed, 0 quarantined")


@flow
def daily() -> None:
    for _ in range(3):
        analyse()
    get_run_logger().warning("2 manifest rows rejected")


if __name__ == "__main__":
    quiet_terminal(Path(sys.argv[1]), verbose=len(sys.argv) > 2 and sys.argv[2] == "-v")
    daily()
