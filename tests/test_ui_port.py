"""`callaudit ui --port N` serves a UI whose pages call the API on port N, not on Prefect's default 4200."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import seeded_prefect_home
from tests.test_serve_e2e import free_port

REPO = Path(__file__).resolve().parent.parent


def test_ui_on_another_port_points_its_pages_at_that_port(tmp_path: Path, migrated_prefect_db: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(seeded_prefect_home(tmp_path / "prefect-home", migrated_prefect_db))
    log = tmp_path / "ui.log"
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("callaudit")), "ui", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 180
        settings = None
        while settings is None:
            tail = log.read_text(encoding="utf-8")[-3000:]
            assert process.poll() is None, f"callaudit ui exited:\n{tail}"
            assert time.monotonic() < deadline, f"no UI after 180 s:\n{tail}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ui-settings", timeout=2) as response:
                    settings = json.load(response)
            except OSError:
                time.sleep(1)
        assert settings["api_url"] == f"http://127.0.0.1:{port}/api"
        with urllib.request.urlopen(f"{settings['api_url']}/health", timeout=5) as response:
            assert response.status == 200
        assert f"http://127.0.0.1:{port}" in log.read_text(encoding="utf-8")
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
