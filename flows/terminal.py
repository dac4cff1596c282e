"""What a flow run prints on the terminal of ``callaudit run`` / ``demo`` / ``backfill``.

Prefect's console handler prints every record of its run loggers, among them one engine line per task
run state: about 200 lines for the dbt build alone ("Task run 'model.…' - Finished in state
Completed()"). The terminal keeps what a user acts on: the project's own stage lines (items done, known,
quarantined, the verdicts) and every warning or error, from any library. Everything else still reaches
the Prefect API (the UI shows each run's full log) and the log file. ``-v`` keeps Prefect's console as it
is. Prefect's logging settings have no filter of this kind (only levels per logger, and the engine and the
project log through the same run loggers), hence this filter on its console handler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from flows.config import REPO_ROOT

_PROJECT = str(REPO_ROOT)
_SITE = str(REPO_ROOT / ".venv")


def said_by_the_project(record: logging.LogRecord) -> bool:
    """A record the terminal shows: a warning or worse, or a line logged by the project's own code."""
    if record.levelno >= logging.WARNING:
        return True
    return record.pathname.startswith(_PROJECT) and not record.pathname.startswith(_SITE)


def quiet_terminal(log_file: Path, verbose: bool = False) -> None:
    """Filter Prefect's console handler down to ``said_by_the_project`` (unless ``verbose``) and write every
    record of Prefect's loggers, INFO and up, to ``log_file``."""
    from prefect.logging.configuration import ensure_logging_setup
    from prefect.logging.handlers import PrefectConsoleHandler

    # Prefect configures its logging lazily, at its first flow run; configured later, after the file handler
    # below is on the root logger, it would leave its console handler out (it defers to a user's handler)
    ensure_logging_setup()

    root = logging.getLogger()
    log_file = Path(log_file)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    files = [Path(h.baseFilename) for h in root.handlers if isinstance(h, logging.FileHandler)]
    if log_file.resolve() not in files:
        handler = logging.FileHandler(log_file, encoding="utf-8")
        handler.setLevel(logging.INFO)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    if verbose:
        return
    for handler in root.handlers:
        if isinstance(handler, PrefectConsoleHandler) and said_by_the_project not in handler.filters:
            handler.addFilter(said_by_the_project)
            handler.format = _without_traceback(handler.format)


def _without_traceback(format: Callable[[logging.LogRecord], str]) -> Callable[[logging.LogRecord], str]:
    """The console's ``format`` for a record without its traceback: an error is one line on the terminal
    (the run's failure, then the CLI's own message of what to do); the log file keeps the traceback. The
    record is shared with the file handler, so its exception is put back once the line is formatted."""

    def one_line(record: logging.LogRecord) -> str:
        exc_info, exc_text = record.exc_info, record.exc_text
        record.exc_info, record.exc_text = None, None
        try:
            return format(record)
        finally:
            record.exc_info, record.exc_text = exc_info, exc_text

    return one_line
