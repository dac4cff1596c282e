"""The router file (``config/llm.yaml``, litellm's Router layout): the pydantic models of its routes
(``LitellmParams``, ``ModelInfo``, ``ModelRoute``), ``RouterSettings`` (retries, timeouts, back-off,
fallbacks) and ``Budget``, checked as one :class:`LlmConfig`; :func:`parse_llm_config` and
:func:`load_llm_config` read it, and a wrong file fails with :class:`LlmConfigError` naming the file
and the field."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

CONFIG_ENV = "CALLAUDIT_LLM_CONFIG"
DEFAULT_CONFIG_PATH = Path(__file__).resolve().parents[2] / "config" / "llm.yaml"  # the repository root
ENV_PREFIX = "os.environ/"


class LlmConfigError(ValueError):
    """The router file is missing or wrong; the message names the file and the field."""


class LitellmParams(BaseModel):
    """What is passed to ``litellm.acompletion`` (any other key, e.g. ``aws_region_name``, passes through).

    String values written ``os.environ/NAME`` are read from the environment when the route is called.
    """

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, description="litellm model string, e.g. openai/gpt-4o-mini")
    api_base: str | None = None
    api_key: str | None = None
    timeout: float | None = Field(default=None, gt=0, description="seconds; default router_settings.timeout")
    max_tokens: int = Field(default=512, gt=0)
    temperature: float | None = Field(default=0.0, ge=0)


class ModelInfo(BaseModel):
    """callaudit's facts about a route (litellm's ``model_info`` is free-form metadata)."""

    model_config = ConfigDict(extra="allow")

    response_format: Literal["json_schema", "json_object", "none"] = Field(
        default="json_object",
        description="json_schema: RESPONSE_SCHEMA as structured output; json_object: JSON mode; none: prompt",
    )
    input_cost_per_token: float | None = Field(default=None, ge=0)
    output_cost_per_token: float | None = Field(default=None, ge=0)


class ModelRoute(BaseModel):
    """One alias of ``model_list``."""

    model_config = ConfigDict(extra="forbid")

    model_name: str = Field(min_length=1, description="the alias the pipeline asks for")
    litellm_params: LitellmParams
    model_info: ModelInfo = Field(default_factory=ModelInfo)


class RouterSettings(BaseModel):
    """Retries, timeouts, back-off and fallbacks."""

    model_config = ConfigDict(extra="forbid")

    num_retries: int = Field(default=2, ge=0, description="retries of a transient error on one route")
    timeout: float = Field(default=60.0, gt=0, description="seconds per call unless the route sets one")
    fallbacks: list[dict[str, list[str]]] = Field(default_factory=list, description="[{alias: [alias, ...]}]")
    retry_backoff_s: float = Field(default=1.0, gt=0, description="first back-off after a transient error")
    max_backoff_s: float = Field(default=30.0, gt=0)
    rate_limit_jitter_s: float = Field(default=0.5, ge=0, description="added at random to a Retry-After")
    max_rate_limit_wait_s: float | None = Field(
        default=None, gt=0, description="give a route up after 429s for this long (None: never)"
    )


class Budget(BaseModel):
    """The shared limits of one run."""

    model_config = ConfigDict(extra="forbid")

    tpm: int | None = Field(default=None, gt=0, description="tokens per minute (None: unlimited)")
    rpm: int | None = Field(default=None, gt=0, description="requests per minute (None: unlimited)")
    max_concurrency: int = Field(default=4, ge=1, description="calls in flight at once")
    burst_s: float = Field(default=60.0, gt=0, description="bucket capacity, in seconds of refill")


class LlmConfig(BaseModel):
    """The router file."""

    model_config = ConfigDict(extra="forbid")

    default_model: str = "classifier"
    model_list: list[ModelRoute] = Field(min_length=1)
    router_settings: RouterSettings = Field(default_factory=RouterSettings)
    budget: Budget = Field(default_factory=Budget)
    source: str = Field(default="<memory>", exclude=True, description="where it was read from")

    @model_validator(mode="after")
    def _check_aliases(self) -> LlmConfig:
        names = [route.model_name for route in self.model_list]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"model_list: model_name {duplicates} appears more than once")
        known = set(names)
        if self.default_model not in known:
            raise ValueError(f"default_model: {self.default_model!r} is not a model_name ({sorted(known)})")
        for i, entry in enumerate(self.router_settings.fallbacks):
            for alias, targets in entry.items():
                for name in (alias, *targets):
                    if name not in known:
                        raise ValueError(
                            f"router_settings.fallbacks[{i}]: {name!r} is not a model_name ({sorted(known)})"
                        )
        return self

    def route(self, alias: str) -> ModelRoute:
        """The route of an alias (LlmConfigError when unknown)."""
        for route in self.model_list:
            if route.model_name == alias:
                return route
        known = [r.model_name for r in self.model_list]
        raise LlmConfigError(f"{self.source}: no model_name {alias!r} in model_list ({known})")

    def chain(self, alias: str | None = None) -> list[ModelRoute]:
        """The alias, then its fallbacks in order (each once)."""
        alias = alias or self.default_model
        names = [alias]
        for entry in self.router_settings.fallbacks:
            names += [n for n in entry.get(alias, []) if n not in names]
        return [self.route(n) for n in names]


def _format_loc(loc: tuple[Any, ...], data: Any) -> str:
    """``model_list[0](classifier).litellm_params.timeout`` from a pydantic error location."""
    text, node = "", data
    for item in loc:
        if isinstance(item, int):
            name = node[item].get("model_name") if _is_entry(node, item) else None
            text += f"[{item}]" + (f"({name})" if isinstance(name, str) else "")
        else:
            text += f".{item}" if text else str(item)
        node = _child(node, item)
    return text or "(top level)"


def _is_entry(node: Any, index: int) -> bool:
    return isinstance(node, list) and 0 <= index < len(node) and isinstance(node[index], dict)


def _child(node: Any, item: Any) -> Any:
    try:
        return node[item]
    except (KeyError, IndexError, TypeError):
        return None


def _config_error(source: str, exc: ValidationError, data: Any) -> LlmConfigError:
    lines = []
    for err in exc.errors():
        where = _format_loc(tuple(err["loc"]), data)
        message = err["msg"].removeprefix("Value error, ")
        got = f" (got {err['input']!r})" if err["type"] not in ("missing", "value_error") else ""
        lines.append(f"{source}: {where}: {message}{got}" if err["loc"] else f"{source}: {message}")
    return LlmConfigError("invalid LLM config:\n  " + "\n  ".join(lines))


def parse_llm_config(data: Any, source: str = "<memory>") -> LlmConfig:
    """An :class:`LlmConfig` from already-parsed YAML (LlmConfigError naming ``source`` and the field)."""
    if not isinstance(data, dict):
        raise LlmConfigError(f"{source}: expected a mapping at the top level, got {type(data).__name__}")
    try:
        config = LlmConfig.model_validate(data)
    except ValidationError as exc:
        raise _config_error(source, exc, data) from None
    config.source = source
    return config


def load_llm_config(path: str | Path | None = None) -> LlmConfig:
    """Read the router file: ``path``, else ``$CALLAUDIT_LLM_CONFIG``, else ``config/llm.yaml``."""
    path = Path(path or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_PATH)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        message = f"{path}: cannot read the LLM config ({exc.strerror}); set {CONFIG_ENV} or pass a path"
        raise LlmConfigError(message) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise LlmConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_llm_config(data, str(path))
