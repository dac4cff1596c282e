"""prefect.yaml registers daily-compliance (cron 02:00, yesterday, all prefixes) on a process pool."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.usefixtures("prefect_api")
def test_prefect_deploy_registers_the_nightly_schedule() -> None:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    prefect = str(Path(sys.executable).with_name("prefect"))
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "CALLAUDIT_HOME": str(REPO)}
    subprocess.run(
        [
            prefect,
            "--no-prompt",
            "work-pool",
            "create",
            "callaudit-process",
            "--type",
            "process",
            "--base-job-template",
            str(REPO / "deployments" / "process-pool.json"),
            "--overwrite",
        ],
        check=True,
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=300,
    )
    deployed = subprocess.run(
        [prefect, "--no-prompt", "deploy", "--all"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("daily-compliance/daily-compliance")
    assert deployment.work_pool_name == "callaudit-process"
    assert deployment.parameters == {"date": None, "prefix": None}
    [schedule] = deployment.schedules
    assert schedule.schedule.cron == "0 2 * * *"
    assert schedule.schedule.timezone == "Africa/Casablanca"
    assert schedule.active
