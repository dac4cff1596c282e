"""One request on one route: the offline ``local/`` provider registered on first use
(:func:`ensure_provider`, the process's one registration flag), ``litellm.acompletion``'s arguments
with ``os.environ/NAME`` secrets resolved and the route's response format (:func:`completion_kwargs`),
the tokens a call may take (:func:`estimate_tokens`), and the usage and cost of an answer (routes
litellm has no price for remembered once)."""

from __future__ import annotations

import os
from typing import Any

import litellm

from inference.llm.config import ENV_PREFIX, LlmConfig, LlmConfigError, ModelRoute
from inference.llm_schema import RESPONSE_SCHEMA

_local_registered = False
_unpriced: set[str] = set()


def ensure_provider(model: str) -> None:
    """Register the offline ``local/`` provider the first time a ``local/`` model is called."""
    global _local_registered
    if model.startswith("local/") and not _local_registered:
        from inference.local_llm import register_local_provider

        register_local_provider()
        _local_registered = True


def _resolve(value: Any, where: str, source: str) -> Any:
    """``os.environ/NAME`` → the variable's value (LlmConfigError naming the field when it is unset)."""
    if isinstance(value, str) and value.startswith(ENV_PREFIX):
        name = value[len(ENV_PREFIX) :]
        if name not in os.environ:
            raise LlmConfigError(f"{source}: {where}: environment variable {name} is not set")
        return os.environ[name]
    if isinstance(value, dict):
        return {k: _resolve(v, f"{where}.{k}", source) for k, v in value.items()}
    return value


def completion_kwargs(route: ModelRoute, messages: list[dict[str, str]], config: LlmConfig) -> dict[str, Any]:
    """The keyword arguments of ``litellm.acompletion`` for one request on one route."""
    params = route.litellm_params.model_dump(exclude_none=True)
    where = f"model_list[{route.model_name}].litellm_params"
    params = {k: _resolve(v, f"{where}.{k}", config.source) for k, v in params.items()}
    params["timeout"] = params.get("timeout", config.router_settings.timeout)
    kind = route.model_info.response_format
    if kind == "json_schema":
        params["response_format"] = {"type": "json_schema", "json_schema": RESPONSE_SCHEMA}
    elif kind == "json_object":
        params["response_format"] = {"type": "json_object"}
    return {**params, "messages": messages, "num_retries": 0, "max_retries": 0}


def estimate_tokens(route: ModelRoute, messages: list[dict[str, str]]) -> int:
    """Prompt tokens (litellm.token_counter) plus the route's ``max_tokens``: what a call may cost."""
    try:
        prompt = litellm.token_counter(model=route.litellm_params.model, messages=messages)
    except Exception:  # noqa: BLE001 - an unknown tokenizer must not stop the run
        prompt = sum(len(m.get("content") or "") for m in messages) // 3
    return int(prompt) + route.litellm_params.max_tokens


def _cost(route: ModelRoute, response: Any, tokens_in: int, tokens_out: int) -> float:
    """Configured per-token prices, else litellm.completion_cost, else 0.0."""
    info = route.model_info
    if info.input_cost_per_token is not None or info.output_cost_per_token is not None:
        return tokens_in * (info.input_cost_per_token or 0.0) + tokens_out * (
            info.output_cost_per_token or 0.0
        )
    model = route.litellm_params.model
    if model in _unpriced:
        return 0.0
    try:
        return float(litellm.completion_cost(completion_response=response) or 0.0)
    except Exception:  # noqa: BLE001 - litellm raises for models it has no price for
        _unpriced.add(model)
        return 0.0


def _usage(response: Any, route: ModelRoute, messages: list[dict[str, str]], text: str) -> tuple[int, int]:
    usage = getattr(response, "usage", None)
    tokens_in = getattr(usage, "prompt_tokens", None)
    tokens_out = getattr(usage, "completion_tokens", None)
    if tokens_in is None:
        tokens_in = estimate_tokens(route, messages) - route.litellm_params.max_tokens
    if tokens_out is None:
        tokens_out = litellm.token_counter(model=route.litellm_params.model, text=text or "")
    return int(tokens_in), int(tokens_out)
