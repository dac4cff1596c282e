"""Backfill: the daily audit for every day of a date range, days side by side up to a concurrency limit.

Each day is the ``daily-compliance`` flow as a subflow (its own run in the UI, its own artifacts). At most
``callaudit-backfill-days`` days run at once (a Prefect global concurrency limit; ``max_parallel`` sets it
when given). Overlapping days are safe: every stage holds a database lock per stage and shard, so a day
waits for another day's stage to finish and then finds its items done.
"""

from __future__ import annotations

import datetime as dt

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE
from prefect.task_runners import ThreadPoolTaskRunner

from flows.config import get_settings
from flows.daily import daily_compliance, prepare_database
from flows.runtime import BACKFILL_LIMIT, ensure_limit, limited

MAX_DAYS = 366


def days_between(start: dt.date, end: dt.date) -> list[dt.date]:
    if end < start:
        raise ValueError(f"backfill: end {end} is before start {start}")
    count = (end - start).days + 1
    if count > MAX_DAYS:
        raise ValueError(f"backfill: {count} days asked, at most {MAX_DAYS} per run (split the range)")
    return [start + dt.timedelta(days=i) for i in range(count)]


@task(name="audit-day", cache_policy=NONE, task_run_name="audit {day}")
def audit_day(
    day: dt.date,
    prefix: str | None,
    manifests_dir: str | None,
    calls_file: str | None,
    audio_root: str | None,
) -> dict:
    with limited(BACKFILL_LIMIT):
        summary = daily_compliance(
            date=day, prefix=prefix, manifests_dir=manifests_dir, calls_file=calls_file, audio_root=audio_root
        )
    return {"day": day.isoformat(), "orders": summary.orders, "compliant": summary.compliant}


@flow(name="backfill", log_prints=True, task_runner=ThreadPoolTaskRunner(max_workers=8))
def backfill(
    start: dt.date,
    end: dt.date,
    prefix: str | None = None,
    max_parallel: int | None = None,
    manifests_dir: str | None = None,
    calls_file: str | None = None,
    audio_root: str | None = None,
) -> list[dict]:
    """Audit every day from ``start`` to ``end`` (inclusive), ``max_parallel`` days at once (default: the
    ``callaudit-backfill-days`` limit, CALLAUDIT_BACKFILL_CONCURRENCY when it does not exist yet)."""
    from prefect.artifacts import create_table_artifact

    logger = get_run_logger()
    days = days_between(start, end)
    settings = get_settings()
    ensure_limit(BACKFILL_LIMIT, max_parallel or settings.backfill_concurrency, overwrite=bool(max_parallel))
    prepare_database()  # the embedded server starts once, before the days run side by side
    futures = [audit_day.submit(d, prefix, manifests_dir, calls_file, audio_root) for d in days]
    results, failed = [], []
    for day, future in zip(days, futures, strict=True):
        try:
            results.append(future.result())
        except Exception as exc:  # the other days go on; the run fails at the end, naming the days
            failed.append(f"{day}: {exc}")
            results.append({"day": day.isoformat(), "orders": None, "compliant": None, "error": str(exc)})
    create_table_artifact(key="backfill-days", table=results, description=f"Audited days {start} → {end}")
    if failed:
        raise RuntimeError(f"backfill: {len(failed)} of {len(days)} days failed:\n  " + "\n  ".join(failed))
    logger.info("backfill %s → %s: %d days audited", start, end, len(days))
    return results
