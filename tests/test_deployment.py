"""prefect.yaml registers its deployments on the pools of deployments/pools.toml: daily-compliance (cron
02:00, yesterday, all prefixes, one at a time), backfill, on-arrival (every minute) and asr-backlog (GPU)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def test_every_pool_template_is_a_valid_base_job_template() -> None:
    from flows.serve import load_pools

    pools = load_pools()
    assert {p.name for p in pools} >= {"callaudit-process", "callaudit-gpu"}
    for pool in pools:
        template = json.loads(pool.template.read_text(encoding="utf-8"))
        variables = template["variables"]["properties"]
        # every {{ placeholder }} of the job configuration is a declared variable
        placeholders = set()
        text = json.dumps(template["job_configuration"])
        for part in text.split("{{")[1:]:
            placeholders.add(part.split("}}")[0].strip())
        assert placeholders <= set(variables), (pool.name, placeholders - set(variables))
    gpu = next(p for p in pools if p.name == "callaudit-gpu")
    manifest = json.loads(gpu.template.read_text(encoding="utf-8"))["job_configuration"]["job_manifest"]
    limits = manifest["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert limits["nvidia.com/gpu"] == "{{ gpu_count }}"


@pytest.mark.usefixtures("prefect_api")
def test_prefect_deploy_registers_every_deployment_with_its_schedule() -> None:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    from flows.serve import create_pools, load_pools

    create_pools(load_pools())
    prefect = str(Path(sys.executable).with_name("prefect"))
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "CALLAUDIT_HOME": str(REPO)}
    deployed = subprocess.run(
        [prefect, "--no-prompt", "deploy", "--all"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    with get_client(sync_client=True) as client:
        daily = client.read_deployment_by_name("daily-compliance/daily-compliance")
        backfill = client.read_deployment_by_name("backfill/backfill")
        arrival = client.read_deployment_by_name("on-arrival/on-arrival")
        backlog = client.read_deployment_by_name("asr-backlog/asr-backlog")
        gpu_pool = client.read_work_pool("callaudit-gpu")
    assert daily.work_pool_name == "callaudit-process"
    assert daily.parameters == {"date": None, "prefix": None}
    [schedule] = daily.schedules
    assert schedule.schedule.cron == "0 2 * * *"
    assert schedule.schedule.timezone == "Africa/Casablanca"
    assert schedule.active
    assert daily.global_concurrency_limit.limit == 1
    assert backfill.parameter_openapi_schema["required"] == ["start", "end"]
    [tick] = arrival.schedules
    assert tick.schedule.interval.total_seconds() == 60
    assert backlog.work_pool_name == "callaudit-gpu" and gpu_pool.type == "kubernetes"


@pytest.mark.usefixtures("prefect_api")
def test_a_run_without_serve_creates_the_limit_it_asks_for_and_takes_its_slot() -> None:
    """An ad-hoc run on an API where `callaudit serve` never created the limits is still limited (no
    "limit does not exist - skipping acquisition" warning): the limit is made with its configured slots."""
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    from flows.config import get_settings
    from flows.runtime import LLM_LIMIT, limited

    with get_client(sync_client=True) as client, contextlib.suppress(ObjectNotFound):
        client.delete_global_concurrency_limit_by_name(LLM_LIMIT)

    @flow
    def classify_like() -> int:
        with limited(LLM_LIMIT), get_client(sync_client=True) as client:
            return client.read_global_concurrency_limit_by_name(LLM_LIMIT).active_slots

    assert classify_like() == 1
    with get_client(sync_client=True) as client:
        made = client.read_global_concurrency_limit_by_name(LLM_LIMIT)
    assert made.limit == get_settings().llm_concurrency and made.active_slots == 0
