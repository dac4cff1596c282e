"""A real local HTTP server speaking Ollama's chat API, for the ``ollama_chat/`` route's tests.

``FakeOllama`` is :class:`tests.fake_openai.FakeOpenAI` with Ollama's wire format: it answers
``POST /api/chat`` (non-streaming: ``{"model", "messages", "options", "format"?, "stream": false}``) with
``{"model", "created_at", "message": {"role": "assistant", "content"}, "done": true, "done_reason",
"prompt_eval_count", "eval_count"}`` and errors as ``{"error": "..."}``. Point litellm's
``ollama_chat/<name>`` route at it with ``api_base=server.api_base`` (no ``/v1``: litellm appends
``/api/chat``). Scripting (valid / broken / 429 / 5xx / slow), the keyword classification, token counting
and TPM/RPM limits are the OpenAI fake's; ``prompt_eval_count`` / ``eval_count`` carry its token counts.

What litellm sends (``litellm/llms/ollama/chat/transformation.py``): ``max_tokens`` as
``options.num_predict``, ``temperature`` in ``options``, ``response_format`` json_object as
``"format": "json"`` and json_schema as ``"format": <the schema itself>``.
"""

from __future__ import annotations

import time
from typing import Any

from tests.fake_openai import FakeOpenAI, Recorded

OLLAMA_PATHS = ("/api/chat",)


class FakeOllama(FakeOpenAI):
    """Context manager: a scripted, rate-limited Ollama server (``/api/chat``) on 127.0.0.1."""

    paths = OLLAMA_PATHS

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def messages_of(self, rec: Recorded) -> list[dict[str, Any]]:
        """The messages' role and content (Ollama's messages also carry ``images``, ``tool_calls``...)."""
        messages = rec.body.get("messages") or []
        return [{"role": m.get("role", ""), "content": m.get("content") or ""} for m in messages]

    def completion_body(
        self, rec: Recorded, model: str, content: str, usage_in: int, usage_out: int
    ) -> dict[str, Any]:
        """Ollama's non-streaming ``/api/chat`` answer."""
        return {
            "model": model,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime()),
            "message": {"role": "assistant", "content": content},
            "done": True,
            "done_reason": "stop",
            "total_duration": 1_000_000,
            "prompt_eval_count": usage_in,
            "eval_count": usage_out,
        }

    def error_body(self, status: int, message: str, kind: str) -> dict[str, Any]:
        """Ollama's error shape: a bare message."""
        return {"error": message}
