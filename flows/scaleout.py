"""The task runner of the per-call stages, chosen by configuration: threads, Dask or Ray.

``CALLAUDIT_TASK_RUNNER=threads`` (default) runs each stage as one task in the flow's process, which uses a
process pool of its own. ``dask`` runs each stage as ``shards`` tasks on a Dask cluster (a local one of
``CALLAUDIT_DASK_WORKERS`` processes, or ``CALLAUDIT_CLUSTER_ADDRESS``); ``ray`` likewise on a Ray cluster
(``pip install -e .[ray]``). Each shard takes the pending items whose key hashes to it, so the shards of a
stage never overlap and their results add up to what one task would have done.
"""

from __future__ import annotations

from flows.config import Settings


def shard_count(settings: Settings) -> int:
    if settings.shards:
        return settings.shards
    if settings.task_runner == "threads":
        return 1
    if settings.task_runner == "dask" and not settings.cluster_address:
        return settings.dask_workers
    return 4


def make_task_runner(settings: Settings):
    from prefect.task_runners import ThreadPoolTaskRunner

    if settings.task_runner == "threads":
        return ThreadPoolTaskRunner(max_workers=max(1, shard_count(settings)))
    if settings.task_runner == "dask":
        from prefect_dask import DaskTaskRunner

        if settings.cluster_address:
            return DaskTaskRunner(address=settings.cluster_address)
        # processes, one thread each: a stage's shard owns a process (its model, its torch threads)
        return DaskTaskRunner(
            cluster_kwargs={
                "n_workers": settings.dask_workers,
                "threads_per_worker": 1,
                "processes": True,
                "dashboard_address": None,
            }
        )
    try:
        from prefect_ray import RayTaskRunner
    except ImportError as exc:
        raise RuntimeError(
            "CALLAUDIT_TASK_RUNNER=ray needs prefect-ray: pip install -e '.[ray]' (not in the default lock)"
        ) from exc
    return RayTaskRunner(address=settings.cluster_address) if settings.cluster_address else RayTaskRunner()
