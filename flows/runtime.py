"""What the running flow is, and how its tasks behave under failure and contention.

* ``current_run_id``: the Prefect flow run, for tagging rows with the run that wrote them.
* ``IO_RETRIES``: retries with exponential back-off and jitter for tasks that read or write outside the
  process (files, object storage, the database); every such task is safe to retry.
* ``stage_lock``: a PostgreSQL advisory lock per stage (and shard), so two runs that overlap (a backfill's
  days, an on-arrival run during the nightly one) never work the same pending items at once: the second
  waits, then finds them done.
* ``limited``: a Prefect global concurrency limit (the LLM and GPU stages). ``callaudit serve`` creates
  them; any other run (an ad-hoc run on an ephemeral API) creates a missing one with the configured slots
  on first use, so every run is limited and none warns that a limit does not exist.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from prefect.tasks import exponential_backoff

# 3 retries after 2, 4 and 8 s, each ±50%: transient I/O errors pass, a real failure fails within ~20 s
IO_RETRIES = {
    "retries": 3,
    "retry_delay_seconds": exponential_backoff(backoff_factor=2),
    "retry_jitter_factor": 0.5,
}
# compute stages are idempotent too, but a deterministic failure should not cost three more hours
STAGE_RETRIES = {"retries": 1, "retry_delay_seconds": 10, "retry_jitter_factor": 0.5}
# Time limits sit on the external calls themselves, where they can interrupt a stuck call: PostgreSQL
# connections (PGCONNECT_TIMEOUT, flows/__init__), S3 (S3_TIMEOUTS), LLM requests (config/llm.yaml) and
# the Prefect API (PREFECT_API_REQUEST_TIMEOUT). Prefect's task timeouts cannot stop a blocking call in a
# worker thread, so the stage tasks have none.
S3_TIMEOUTS = {
    "connect_timeout": 10,
    "read_timeout": 120,
    "retries": {"max_attempts": 5, "mode": "adaptive"},
}

LLM_LIMIT = "callaudit-llm"
GPU_LIMIT = "callaudit-gpu"
BACKFILL_LIMIT = "callaudit-backfill-days"


def current_run_id() -> str | None:
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return None
    return str(context.flow_run.id)


def _lock_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def stage_lock(database_url: str, name: str) -> Iterator[None]:
    """Hold the advisory lock ``name`` while the block runs (a session lock, on a connection of its own)."""
    key = _lock_key(f"callaudit:{name}")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s)", [key])
        try:
            yield
        finally:
            conn.execute("select pg_advisory_unlock(%s)", [key])


@contextmanager
def limited(name: str, occupy: int = 1) -> Iterator[None]:
    """Take ``occupy`` slots of the global concurrency limit ``name`` while the block runs (created with
    its configured slots if the API in use lacks it; one set in the UI is left as it is)."""
    from prefect.concurrency.sync import concurrency

    from flows.config import get_settings

    ensure_limit(name, limit_slots(get_settings())[name], overwrite=False)
    with concurrency(name, occupy=occupy, strict=True):
        yield


def limit_slots(settings) -> dict[str, int]:
    return {
        LLM_LIMIT: settings.llm_concurrency,
        GPU_LIMIT: settings.gpu_concurrency,
        BACKFILL_LIMIT: settings.backfill_concurrency,
    }


def ensure_limit(name: str, slots: int, overwrite: bool = True) -> None:
    """Create the global concurrency limit ``name`` on the Prefect API in use (or set its slots when
    ``overwrite``; otherwise an existing limit, perhaps changed in the UI, is left as it is)."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        if not overwrite:
            try:
                client.read_global_concurrency_limit_by_name(name)
                return
            except ObjectNotFound:
                pass
        client.upsert_global_concurrency_limit_by_name(name, slots)


def ensure_limits(slots: dict[str, int], overwrite: bool = True) -> None:
    for name, limit in slots.items():
        ensure_limit(name, limit, overwrite)


@dataclass(frozen=True)
class Shard:
    """One of ``count`` slices of a stage's pending items, by a hash of each item's key.

    The daily flow runs a stage as ``count`` tasks side by side on its task runner (threads, Dask, Ray);
    with ``count == 1`` (the default) one task does everything and may use a process pool of its own.
    """

    index: int = 0
    count: int = 1

    def holds(self, key: str) -> bool:
        if self.count <= 1:
            return True
        return int(hashlib.sha256(key.encode()).hexdigest()[:12], 16) % self.count == self.index

    def sql(self, key: str) -> str:
        """The SQL condition that keeps this shard's rows, ``key`` a text column or expression of the
        query: the same hash as :meth:`holds`, so a stage selects its shard in the database."""
        if self.count <= 1:
            return "true"
        digest = f"left(encode(sha256(convert_to({key}, 'UTF8')), 'hex'), 12)"
        # mod(), not %: the condition goes into queries with %s parameters
        return f"(mod(('x' || {digest})::bit(48)::bigint, {int(self.count)}) = {int(self.index)})"

    @property
    def fanned_out(self) -> bool:
        """Several shards run at once: each works in its own process, without a pool of its own."""
        return self.count > 1

    def __str__(self) -> str:
        return f"{self.index + 1}/{self.count}"


WHOLE = Shard()  # every pending item, in one task
