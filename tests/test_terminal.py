"""The terminal of a flow run shows the stages' own lines and every warning; Prefect's engine lines (one per
task run state) go to the log file only, and ``-v`` brings them back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import seeded_prefect_home

PROBE = Path(__file__).with_name("terminal_probe.py")


def run_probe(tmp_path: Path, migrated_db: Path, *flags: str) -> tuple[str, str]:
    """(terminal, log file) of a fresh process running a small flow behind ``quiet_terminal``, its Prefect
    home seeded with a migrated database."""
    log_file = tmp_path / "logs" / "callaudit.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    home = seeded_prefect_home(tmp_path / "prefect", migrated_db)
    env.update(PREFECT_HOME=str(home), PYTHONPATH=str(PROBE.parent.parent))
    done = subprocess.run(
        [sys.executable, str(PROBE), str(log_file), *flags],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout + done.stderr, log_file.read_text(encoding="utf-8")


@pytest.mark.parametrize("verbose", [False, True])
def test_the_terminal_keeps_stage_lines_and_warnings_and_the_log_file_everything(
    tmp_path: Path, migrated_prefect_db: Path, verbose: bool
) -> None:
    terminal, logged = run_probe(tmp_path, migrated_prefect_db, *(["-v"] if verbose else []))
    assert terminal.count("audio analysis: 3 analysed") == 3
    assert "2 manifest rows rejected" in terminal
    assert ("Finished in state Completed()" in terminal) is verbose
    assert logged.count("Finished in state Completed()") == 4  # three task runs and the flow run
    assert logged.count("audio analysis: 3 analysed") == 3


@pytest.mark.parametrize("verbose", [False, True])
def test_an_error_is_one_line_on_the_terminal_and_its_traceback_is_in_the_log_file(
    tmp_path: Path, migrated_prefect_db: Path, verbose: bool
) -> None:
    terminal, logged = run_probe(tmp_path, migrated_prefect_db, "--fail", *(["-v"] if verbose else []))
    assert "terminating connection due to administrator command" in terminal
    assert "error: the run stopped" in terminal
    assert ("Traceback" in terminal) is verbose  # -v keeps Prefect's console as it is
    assert "Traceback" in logged and "lose_the_database" in logged
    assert "2 manifest rows rejected" in terminal
