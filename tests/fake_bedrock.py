"""A real local HTTP server speaking the Bedrock Runtime Converse API, for the ``bedrock/`` route's tests.

``FakeBedrock`` is :class:`tests.fake_openai.FakeOpenAI` with Bedrock's wire format: it answers
``POST /model/{modelId}/converse`` (``{"messages": [{"role", "content": [{"text"}]}], "system": [{"text"}],
"inferenceConfig", "toolConfig"?}``) with ``{"output": {"message": {"role": "assistant", "content": [...]}},
"stopReason", "usage": {"inputTokens", "outputTokens", "totalTokens"}, "metrics"}`` and errors as
``{"message": "..."}`` with an ``x-amzn-ErrorType`` header. Point litellm's ``bedrock/<modelId>`` route at it
with ``aws_bedrock_runtime_endpoint=server.api_base`` and any AWS credentials: litellm signs the request with
SigV4 (botocore, offline) and the fake records the ``Authorization`` header without checking the signature.

litellm asks Claude for a JSON schema as a forced tool call (``toolConfig.tools[].toolSpec`` named
``json_tool_call`` with ``inputSchema.json``, ``toolChoice.tool.name``); when the request forces a tool and
the scripted answer is a JSON object, the fake answers it as that tool's ``toolUse.input`` (what Bedrock
does), any other answer (a broken one) as a text block. Scripting, the keyword classification, token
counting and TPM/RPM limits are the OpenAI fake's.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

from tests.fake_openai import FakeOpenAI, Recorded

CONVERSE = re.compile(r"^/model/(?P<model>[^/]+)/converse$")
ERROR_TYPES = {429: "ThrottlingException", 400: "ValidationException", 404: "ResourceNotFoundException"}


class FakeBedrock(FakeOpenAI):
    """Context manager: a scripted, rate-limited Bedrock Runtime (Converse) server on 127.0.0.1."""

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def accepts(self, path: str) -> bool:
        return CONVERSE.match(path) is not None

    def model_of(self, rec: Recorded) -> str:
        """The model id of the URL, decoded (``anthropic.claude-...-v1:0``)."""
        match = CONVERSE.match(rec.path)
        return unquote(match.group("model")) if match else ""

    def messages_of(self, rec: Recorded) -> list[dict[str, Any]]:
        """The system blocks and messages as OpenAI-style ``{"role", "content": str}``."""
        system = rec.body.get("system")
        turns = [{"role": "system", "content": _text(system)}] if system else []
        for message in rec.body.get("messages") or []:
            turns.append({"role": message.get("role", ""), "content": _text(message.get("content"))})
        return turns

    def forced_tool(self, rec: Recorded) -> str | None:
        """The tool the request forces (``toolConfig.toolChoice.tool.name``), if any."""
        choice = (rec.body.get("toolConfig") or {}).get("toolChoice") or {}
        return (choice.get("tool") or {}).get("name")

    def completion_body(
        self, rec: Recorded, model: str, content: str, usage_in: int, usage_out: int
    ) -> dict[str, Any]:
        """Converse's answer: the JSON as the forced tool's input, else a text block."""
        tool, block, stop = self.forced_tool(rec), {"text": content}, "end_turn"
        if tool is not None:
            try:
                value = json.loads(content)
            except json.JSONDecodeError:
                value = None
            if isinstance(value, dict):
                block = {"toolUse": {"toolUseId": f"tooluse_fake{id(rec)}", "name": tool, "input": value}}
                stop = "tool_use"
        return {
            "output": {"message": {"role": "assistant", "content": [block]}},
            "stopReason": stop,
            "usage": {
                "inputTokens": usage_in,
                "outputTokens": usage_out,
                "totalTokens": usage_in + usage_out,
            },
            "metrics": {"latencyMs": 1},
        }

    def error_body(self, status: int, message: str, kind: str) -> dict[str, Any]:
        """Bedrock's error shape; the error type goes in the ``x-amzn-ErrorType`` header."""
        return {"message": message}

    def error_headers(self, status: int) -> dict[str, str]:
        """``x-amzn-ErrorType``: ThrottlingException for a 429, and so on."""
        return {"x-amzn-ErrorType": ERROR_TYPES.get(status, "InternalServerException")}


def _text(blocks: Any) -> str:
    """The text of Converse content blocks (``[{"text": ...}, ...]``)."""
    if isinstance(blocks, str):
        return blocks
    return "".join(b.get("text", "") for b in blocks or [] if isinstance(b, dict))
