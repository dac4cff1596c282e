"""Great Expectations at the end of the flow: a failed expectation fails the run, naming table and check."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NONE

from expectations.checkpoint import CheckpointReport, ExpectationsFailed, run_checkpoint
from flows.config import get_settings
from flows.runtime import stage_lock
from warehouse.db import sqlalchemy_url


@task(name="gx-checkpoint", cache_policy=NONE)
def gx_checkpoint(database_url: str) -> CheckpointReport:
    settings = get_settings()
    with stage_lock(database_url, "gx-checkpoint"):  # one GX context writes the Data Docs at a time
        report = run_checkpoint(
            sqlalchemy_url(database_url), database_url, settings.gx_dir, settings.contract().audited_status
        )
    logger = get_run_logger()
    if not report.success:
        raise ExpectationsFailed(report)
    logger.info("%s; Data Docs: %s", report.summary(), report.data_docs)
    return report
