"""The terminal of a flow run shows the stages' own lines and every warning; Prefect's engine lines (one per
task run state) go to the log file only."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

pytestmark = pytest.mark.usefixtures("prefect_api")


def test_the_terminal_keeps_stage_lines_and_warnings_the_log_file_everything(tmp_path: Path) -> None:
    from prefect import flow, get_run_logger, task
    from prefect.logging.handlers import PrefectConsoleHandler

    from flows.terminal import quiet_terminal, said_by_the_project

    prefect_logger = logging.getLogger("prefect")
    level = prefect_logger.level
    prefect_logger.setLevel(logging.INFO)  # the test session runs Prefect at WARNING
    log_file = tmp_path / "logs" / "callaudit.log"
    root = logging.getLogger()
    handlers = list(root.handlers)
    consoles = [h for h in handlers if isinstance(h, PrefectConsoleHandler)]
    assert consoles, "Prefect's console handler is not on the root logger"
    terminal = io.StringIO()  # what Prefect's console handler prints, whatever pytest captures
    files = [c.console.file for c in consoles]
    for console in consoles:
        console.console.file = terminal
    try:
        quiet_terminal(log_file)
        quiet_terminal(log_file)  # a second call adds nothing
        assert len(set(root.handlers) - set(handlers)) == 1

        @task
        def analyse() -> None:
            get_run_logger().info("audio analysis: 3 analysed, 0 quarantined")

        @flow
        def daily() -> None:
            for _ in range(3):
                analyse()
            get_run_logger().warning("2 manifest rows rejected")

        daily()
        printed = terminal.getvalue()
        logged = log_file.read_text(encoding="utf-8")
    finally:
        prefect_logger.setLevel(level)
        for console, file in zip(consoles, files, strict=True):
            console.console.file = file
        for handler in root.handlers:
            if isinstance(handler, PrefectConsoleHandler):
                handler.removeFilter(said_by_the_project)
        for handler in set(root.handlers) - set(handlers):
            root.removeHandler(handler)
            handler.close()

    assert printed.count("audio analysis: 3 analysed") == 3
    assert "2 manifest rows rejected" in printed
    assert "Finished in state" not in printed and "Beginning flow run" not in printed
    assert logged.count("Finished in state Completed()") == 4  # three task runs and the flow run
    assert logged.count("audio analysis: 3 analysed") == 3
