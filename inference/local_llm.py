"""The offline ``local/`` LLM route: a litellm custom provider backed by the bundled call classifier.

After :func:`register_local_provider`, ``litellm.completion(model="local/callaudit-classifier",
messages=build_messages(transcript))`` (or ``acompletion``) answers like a chat model would: one assistant
message whose content is the JSON of :class:`inference.llm_schema.Classification`, with token usage. Any
real model replaces it by configuration (another ``model`` string); nothing else changes. Request options
meant for real models (``response_format``, ``temperature``, ``timeout``, ``max_tokens``, ...) are accepted
and ignored: the classifier is deterministic and always answers in the schema.

The model file is ``models/classifier/call-classifier.json`` in the repository unless a path is given or
``CALLAUDIT_CLASSIFIER_MODEL`` names another; it is loaded once per process (per path and version).
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm  # noqa: E402
from litellm import CustomLLM  # noqa: E402
from litellm.llms.custom_llm import CustomLLMError  # noqa: E402

from inference.call_classifier import CallClassifier  # noqa: E402
from inference.llm_schema import extract_transcript  # noqa: E402

PROVIDER = "local"
MODEL_NAME = "callaudit-classifier"
MODEL = f"{PROVIDER}/{MODEL_NAME}"
MODEL_ENV = "CALLAUDIT_CLASSIFIER_MODEL"
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "models" / "classifier" / "call-classifier.json"

_LOCK = threading.Lock()
_MODELS: dict[tuple[str, int, int], CallClassifier] = {}


def resolve_model_path(path: str | Path | None = None) -> Path:
    """The model file: ``path`` if given, else ``$CALLAUDIT_CLASSIFIER_MODEL``, else the bundled one."""
    chosen = path or os.environ.get(MODEL_ENV) or DEFAULT_MODEL_PATH
    return Path(chosen).expanduser().resolve()


def load_model(path: str | Path | None = None) -> CallClassifier:
    """The classifier at ``path`` (see :func:`resolve_model_path`), loaded once per process and version."""
    resolved = resolve_model_path(path)
    stat = resolved.stat()
    key = (str(resolved), stat.st_size, stat.st_mtime_ns)
    with _LOCK:
        model = _MODELS.get(key)
        if model is None:
            model = CallClassifier.load(resolved)
            _MODELS.clear()  # one model per process: a new version replaces the old one
            _MODELS[key] = model
    return model


def _count_tokens(*, messages: list[dict[str, Any]] | None = None, text: str | None = None) -> int:
    """litellm's (offline, bundled) tokenizer count; a word count if it is unavailable."""
    try:
        return int(litellm.token_counter(model=MODEL_NAME, messages=messages, text=text))
    except Exception:  # noqa: BLE001 - usage is informative, never worth failing a classification
        joined = text if text is not None else " ".join(str(m.get("content") or "") for m in messages or [])
        return len(joined.split())


class CallClassifierLLM(CustomLLM):
    """litellm custom handler: classifies the transcript inside the request's messages."""

    def __init__(self, model_path: str | Path | None = None) -> None:
        super().__init__()
        self.model_path = model_path

    def _respond(self, model: str, messages: list[dict[str, Any]]) -> litellm.ModelResponse:
        name = model.split("/", 1)[1] if model.startswith(f"{PROVIDER}/") else model
        if name != MODEL_NAME:
            raise CustomLLMError(status_code=404, message=f"unknown local model {model!r}; use {MODEL!r}")
        classification = load_model(self.model_path).predict(extract_transcript(messages))
        content = classification.model_dump_json()
        prompt_tokens = _count_tokens(messages=messages)
        completion_tokens = _count_tokens(text=content)
        return litellm.ModelResponse(
            id=f"chatcmpl-local-{uuid.uuid4().hex}",
            created=int(time.time()),
            model=MODEL,
            object="chat.completion",
            choices=[
                {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}
            ],
            usage=litellm.Usage(
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                total_tokens=prompt_tokens + completion_tokens,
            ),
        )

    def completion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> litellm.ModelResponse:
        """Synchronous route; every option besides ``model`` and ``messages`` is ignored."""
        return self._respond(model, messages)

    async def acompletion(
        self, model: str, messages: list, *args: Any, **kwargs: Any
    ) -> litellm.ModelResponse:
        """Asynchronous route (the classifier is fast and CPU-bound: it answers inline)."""
        return self._respond(model, messages)


def register_local_provider(model_path: str | Path | None = None) -> None:
    """Make ``local/callaudit-classifier`` callable through litellm. Idempotent: a second call only
    updates the model path of the handler already registered."""
    with _LOCK:
        for entry in litellm.custom_provider_map:
            handler = entry.get("custom_handler")
            if entry.get("provider") == PROVIDER and isinstance(handler, CallClassifierLLM):
                handler.model_path = model_path
                return
        litellm.custom_provider_map.append(
            {"provider": PROVIDER, "custom_handler": CallClassifierLLM(model_path)}
        )
        litellm.register_model(
            {
                MODEL: {
                    "litellm_provider": PROVIDER,
                    "mode": "chat",
                    "input_cost_per_token": 0.0,
                    "output_cost_per_token": 0.0,
                    "cache_creation_input_token_cost": 0.0,
                    "cache_read_input_token_cost": 0.0,
                    "max_input_tokens": 100000,
                    "max_output_tokens": 1000,
                }
            }
        )
