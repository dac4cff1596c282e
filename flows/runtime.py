"""What the running Prefect flow is, for tagging rows with the run that wrote them."""

from __future__ import annotations


def current_run_id() -> str | None:
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return None
    return str(context.flow_run.id)
