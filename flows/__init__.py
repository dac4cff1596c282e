"""Prefect flows and tasks: orchestration and I/O. Offline-safe defaults are set before Prefect loads."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

_state = Path(os.environ.get("CALLAUDIT_STATE_DIR", Path(__file__).resolve().parent.parent / ".state"))
for _key, _value in {
    "PREFECT_HOME": str(_state / "prefect"),
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
    "HF_HUB_OFFLINE": "1",
    "GX_ANALYTICS_ENABLED": "false",
    "TQDM_DISABLE": "1",
    "PGCONNECT_TIMEOUT": "15",  # libpq: a database that does not answer fails the call, never hangs it
}.items():
    os.environ.setdefault(_key, _value)
# Prefect's ephemeral server opens its SQLite file in PREFECT_HOME: it must exist before the first flow
# ("unable to open database file" on a fresh checkout's first `callaudit run`).
Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
warnings.filterwarnings("ignore", message="You are using a generic SQLDatasource")
warnings.filterwarnings("ignore", message="`schema_name` is deprecated")
