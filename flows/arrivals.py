"""On arrival: audit a day as soon as its manifest, the call records or a recording lands.

The ``on-arrival`` deployment runs this sensor every minute. It lists the watched inputs (the manifests
folder, the call records file, the audio root: a folder or an S3 prefix), compares their fingerprints
with ``ops.arrivals``, and for each audited day concerned starts a ``daily-compliance`` run: through the
deployment when it exists (its own run, on the work pool, one at a time), inline otherwise. A new manifest
concerns its own day; new call records or recordings concern the latest day that has a manifest (the
marts are rebuilt whole, so every order the new call belongs to is judged again). What was seen is
recorded with the run it triggered, so each arrival triggers exactly one run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import psycopg
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from flows.config import Settings, get_settings
from flows.daily import daily_compliance, prepare_database, resolve_inputs
from flows.runtime import IO_RETRIES
from flows.storage import local_etag, open_audio_root
from inference.contract import ContractError, parse_manifest_name

DAILY_DEPLOYMENT = "daily-compliance/daily-compliance"
MAX_DAYS_PER_TICK = 3  # more new days than this at once is a backfill: the oldest are logged, not run


@dataclass(frozen=True)
class Arrival:
    kind: str  # manifest | calls | recording
    path: str
    fingerprint: str
    day: dt.date | None  # a manifest's own day; None: the latest audited day


def list_inputs(manifests: Path, calls: Path, audio_root: str, settings: Settings) -> list[Arrival]:
    """Everything under the watched inputs, with a fingerprint that changes when the content does."""
    contract = settings.contract()
    found: list[Arrival] = []
    for path in sorted(p for p in manifests.iterdir() if p.is_file() and not p.name.startswith((".", "~$"))):
        try:
            day = parse_manifest_name(path.name, contract.types, contract.offers).day
        except ContractError:
            day = None  # ingest quarantines it with the reason; it still triggers a run
        found.append(Arrival("manifest", path.name, local_etag(path.stat()), day))
    found.append(Arrival("calls", calls.name, hashlib.sha256(calls.read_bytes()).hexdigest(), None))
    for relative, info in sorted(open_audio_root(audio_root, settings).listing().items()):
        found.append(Arrival("recording", relative, info.etag, None))
    return found


def new_arrivals(conn: psycopg.Connection, found: list[Arrival]) -> list[Arrival]:
    seen = {
        (kind, path, fingerprint)
        for kind, path, fingerprint in conn.execute(
            "select source_kind, source_path, fingerprint from ops.arrivals"
        ).fetchall()
    }
    return [a for a in found if (a.kind, a.path, a.fingerprint) not in seen]


def days_to_audit(new: list[Arrival], found: list[Arrival]) -> list[dt.date]:
    """The days of the new manifests, plus the latest manifest day when calls or recordings are new."""
    days = {a.day for a in new if a.kind == "manifest" and a.day is not None}
    if any(a.kind != "manifest" or a.day is None for a in new):
        manifest_days = [a.day for a in found if a.kind == "manifest" and a.day is not None]
        if manifest_days:
            days.add(max(manifest_days))
    return sorted(days)


@task(name="find-arrivals", cache_policy=NONE, **IO_RETRIES)
def find_arrivals(
    database_url: str, manifests: Path, calls: Path, audio_root: str
) -> tuple[list[Arrival], list[dt.date]]:
    found = list_inputs(manifests, calls, audio_root, get_settings())
    with psycopg.connect(database_url) as conn:
        new = new_arrivals(conn, found)
    return new, days_to_audit(new, found)


@task(name="record-arrivals", cache_policy=NONE, **IO_RETRIES)
def record_arrivals(database_url: str, arrivals: list[Arrival], runs: dict[str, str]) -> None:
    latest = max(runs) if runs else None
    with psycopg.connect(database_url) as conn, conn.cursor() as cur:
        cur.executemany(
            """insert into ops.arrivals (source_kind, source_path, fingerprint, audit_day, triggered_run)
               values (%s, %s, %s, %s, %s) on conflict do nothing""",
            [
                (
                    a.kind,
                    a.path,
                    a.fingerprint,
                    a.day,
                    runs.get(a.day.isoformat()) if a.day else runs.get(latest),
                )
                for a in arrivals
            ],
        )


def _deployment_exists(name: str) -> bool:
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    try:
        with get_client(sync_client=True) as client:
            client.read_deployment_by_name(name)
        return True
    except (ObjectNotFound, RuntimeError):
        return False


@flow(name="on-arrival", log_prints=True)
def on_arrival(
    prefix: str | None = None,
    manifests_dir: str | None = None,
    calls_file: str | None = None,
    audio_root: str | None = None,
) -> dict[str, str]:
    """Start the audit of every day concerned by new inputs; return {day: flow run id}."""
    from prefect.deployments import run_deployment

    logger = get_run_logger()
    settings = get_settings()
    manifests, calls, audio = resolve_inputs(settings, manifests_dir, calls_file, audio_root)
    url = prepare_database()
    new, days = find_arrivals(url, manifests, calls, audio)
    if not new:
        logger.info("on-arrival: nothing new under %s, %s, %s", manifests, calls, audio)
        return {}
    if len(days) > MAX_DAYS_PER_TICK:
        logger.warning(
            "on-arrival: %d days have new manifests; auditing the latest %d, run `backfill` for %s → %s",
            len(days),
            MAX_DAYS_PER_TICK,
            days[0],
            days[-MAX_DAYS_PER_TICK - 1],
        )
        days = days[-MAX_DAYS_PER_TICK:]
    kinds = {k: sum(1 for a in new if a.kind == k) for k in ("manifest", "calls", "recording")}
    logger.info("on-arrival: new %s → auditing %s", kinds, ", ".join(map(str, days)))
    runs: dict[str, str] = {}
    through_deployment = _deployment_exists(DAILY_DEPLOYMENT)
    for day in days:
        parameters = {"date": day.isoformat(), "prefix": prefix}
        if through_deployment:  # its own run on the work pool; the deployment runs one at a time
            run = run_deployment(DAILY_DEPLOYMENT, parameters=parameters, timeout=0, tags=["on-arrival"])
            runs[day.isoformat()] = str(run.id)
        else:
            daily_compliance(
                date=day, prefix=prefix, manifests_dir=str(manifests), calls_file=str(calls), audio_root=audio
            )
            runs[day.isoformat()] = "inline"
    record_arrivals(url, new, runs)
    return runs
