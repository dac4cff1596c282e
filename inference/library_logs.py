"""Library chatter goes to the log file, not the terminal.

NeMo keeps its own logger singleton (``nemo.utils.logging``) with stream handlers on stdout and stderr and
prints a model's whole training/validation config as warnings on every ``restore_from``; OneLogger (pulled
in by NeMo) warns through ``logging`` that telemetry is off. Neither has a file-only setting, so the stream
handlers are swapped here for one file handler, through NeMo's own ``remove_stream_handlers`` /
``add_file_handler``. Errors still reach the caller as exceptions.
"""

from __future__ import annotations

import logging
from pathlib import Path

# Python loggers of libraries that talk on the terminal at import or model load.
CHATTY_LOGGERS = ("nv_one_logger", "lightning", "lightning.pytorch", "pytorch_lightning", "lightning_fabric")

_routed: set[Path] = set()


def send_library_logs_to(log_file: Path) -> None:
    """Route NeMo's and its dependencies' logs to ``log_file`` (created with its folder); idempotent."""
    log_file = Path(log_file).resolve()
    if log_file in _routed:
        return
    log_file.parent.mkdir(parents=True, exist_ok=True)
    from nemo.utils import logging as nemo_logging

    nemo_logging.remove_stream_handlers()
    nemo_logging.add_file_handler(str(log_file))
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in CHATTY_LOGGERS:
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.propagate = False
    _routed.add(log_file)
