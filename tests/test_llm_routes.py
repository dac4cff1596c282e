"""The production routes of ``config/llm.yaml``, uncommented as shipped, against local servers of their API.

Each commented route (Bedrock, Groq, Ollama, OpenAI-compatible, OpenAI) keeps its ``litellm_params`` exactly
as the file ships them; its ``os.environ/`` secrets and bases are exported, and the routes without a base of
their own get the local server's (``api_base``; Bedrock: ``aws_bedrock_runtime_endpoint``). The servers:
``tests/fake_openai.py`` (OpenAI, Groq, OpenAI-compatible), ``tests/fake_ollama.py`` (Ollama's
``/api/chat``) and ``tests/fake_bedrock.py`` (the Converse API, SigV4-signed by litellm with dummy keys).
Every call goes through :func:`inference.llm.classify_many`, the classify stage's path: the tests check the
request on the wire (the project's prompt, the JSON schema or JSON mode the route asks for, its key), the
parsed classification, a 429 / 500 / broken answer retried to success, and that the budget is charged
exactly the tokens the server reported.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from inference.budget import RateLimiter
from inference.llm import CallRequest, CallResult, LlmConfig, classify_many, parse_llm_config
from inference.llm_schema import RESPONSE_SCHEMA, build_messages, extract_transcript
from tests.fake_bedrock import FakeBedrock
from tests.fake_ollama import FakeOllama
from tests.fake_openai import FakeOpenAI, Recorded, broken, rate_limit, server_error

# litellm's own types warn once when pydantic first builds their schemas; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:Item 'summary' on TypedDict:UserWarning")
SHIPPED = Path(__file__).resolve().parent.parent / "config" / "llm.yaml"
REFUSAL = "[PERSON_1]: allô ? technicien: bonjour, c'est pour l'installation. [PERSON_1]: non je refuse."
POSTPONE = (
    "technicien: bonjour [PERSON_2], je passe pour la fibre de la commande [ORDER_ID_1]. "
    "[PERSON_2]: ah non, il faut reporter, rappelez-moi demain."
)
TRANSCRIPTS = {REFUSAL: 1, POSTPONE: 2}  # transcript → the call type the fake servers derive from it
SCHEMA_FORMAT = {"type": "json_schema", "json_schema": RESPONSE_SCHEMA}


def uncommented_llm_yaml() -> dict[str, Any]:
    """The shipped router file with every commented production route uncommented, parsed."""
    text = SHIPPED.read_text(encoding="utf-8")
    models_part, rest = text.split("\nrouter_settings:", 1)
    lines = [re.sub(r"^  # (?=- |  )", "  ", line) for line in models_part.splitlines()]
    return yaml.safe_load("\n".join(lines) + "\nrouter_settings:" + rest)


@dataclass(frozen=True)
class RouteCase:
    """One production route: its local server, what to export, and what its request must look like."""

    alias: str
    server: Callable[[], FakeOpenAI]
    env: Callable[[FakeOpenAI], dict[str, str]]  # the route's os.environ/ variables
    base_param: str | None  # the litellm_params key given the server's address (None: it reads env)
    wire_model: str  # the model name the server sees
    path: str  # the endpoint called

    def __str__(self) -> str:
        return self.alias


AWS_KEY = "AKIDEXAMPLEFAKE00001"
CASES = [
    RouteCase(
        "bedrock-claude",
        FakeBedrock,
        lambda s: {
            "AWS_REGION_NAME": "eu-west-3",
            "AWS_ACCESS_KEY_ID": AWS_KEY,
            "AWS_SECRET_ACCESS_KEY": "x",
        },
        "aws_bedrock_runtime_endpoint",
        "anthropic.claude-3-5-sonnet-20240620-v1:0",
        "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse",
    ),
    RouteCase(
        "groq-llama",
        FakeOpenAI,
        lambda s: {"GROQ_API_KEY": "gsk-local"},
        "api_base",
        "llama-3.1-8b-instant",
        "/v1/chat/completions",
    ),
    RouteCase(
        "ollama-llama",
        FakeOllama,
        lambda s: {"OLLAMA_API_BASE": s.api_base},
        None,
        "llama3.1",
        "/api/chat",
    ),
    RouteCase(
        "openai-compatible",
        FakeOpenAI,
        lambda s: {"LLM_API_BASE": s.api_base, "LLM_API_KEY": "local-key"},
        None,
        "Qwen2.5-7B-Instruct",
        "/v1/chat/completions",
    ),
    RouteCase(
        "openai-mini",
        FakeOpenAI,
        lambda s: {"OPENAI_API_KEY": "sk-local"},
        "api_base",
        "gpt-4o-mini",
        "/v1/chat/completions",
    ),
]


def route_config(case: RouteCase, server: FakeOpenAI) -> LlmConfig:
    """The uncommented shipped file with ``case.alias`` as the only route, pointed at ``server``.

    Its litellm_params and model_info stay as shipped (plus the server's address where the route has no
    base of its own); router_settings keep the shipped retries with short back-offs for the test.
    """
    data = uncommented_llm_yaml()
    (entry,) = [r for r in data["model_list"] if r["model_name"] == case.alias]
    if case.base_param is not None:
        assert case.base_param not in entry["litellm_params"]
        entry["litellm_params"][case.base_param] = server.api_base
    data["model_list"] = [entry]
    data["default_model"] = case.alias
    data["router_settings"].update(retry_backoff_s=0.05, max_backoff_s=0.2, rate_limit_jitter_s=0.05)
    return parse_llm_config(data, f"{SHIPPED} ({case.alias} uncommented)")


class FrozenClock:
    """A limiter clock that never advances: the buckets do not refill, so what they lack is what was spent."""

    def now(self) -> float:
        return 0.0

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def classify(
    config: LlmConfig, transcripts: list[str], limiter: RateLimiter | None = None
) -> list[CallResult]:
    """classify_many (the classify stage's call) over ``transcripts``, keys k0, k1...; results by key."""
    results: list[CallResult] = []
    requests = [CallRequest(f"k{i}", text) for i, text in enumerate(transcripts)]
    asyncio.run(classify_many(requests, config, results.append, limiter=limiter, seed=1))
    return sorted(results, key=lambda r: r.key)


@pytest.fixture(params=CASES, ids=str)
def case(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[RouteCase, Any]]:
    """A route case with its server started and its variables exported."""
    route_case: RouteCase = request.param
    for name in ("AWS_BEDROCK_RUNTIME_ENDPOINT", "AWS_PROFILE", "AWS_SESSION_TOKEN", "OLLAMA_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with route_case.server() as server:
        for name, value in route_case.env(server).items():
            monkeypatch.setenv(name, value)
        yield route_case, server


def check_request(case: RouteCase, sent: Recorded, server: FakeOpenAI, transcript: str) -> None:
    """The request carries the project's prompt, the route's JSON constraint, key and token limit."""
    assert sent.path == case.path and server.model_of(sent) == case.wire_model
    assert server.messages_of(sent) == build_messages(transcript)
    body, auth = sent.body, sent.headers.get("authorization", "")
    if case.alias == "bedrock-claude":
        assert auth.startswith(f"AWS4-HMAC-SHA256 Credential={AWS_KEY}/") and "/eu-west-3/bedrock/" in auth
        assert body["inferenceConfig"]["maxTokens"] == 300
        (tool,) = body["toolConfig"]["tools"]
        assert body["toolConfig"]["toolChoice"] == {"tool": {"name": tool["toolSpec"]["name"]}}
        assert tool["toolSpec"]["inputSchema"]["json"]["required"] == RESPONSE_SCHEMA["schema"]["required"]
        assert (
            tool["toolSpec"]["inputSchema"]["json"]["properties"] == RESPONSE_SCHEMA["schema"]["properties"]
        )
    elif case.alias == "ollama-llama":
        assert body["format"] == RESPONSE_SCHEMA["schema"] and body["stream"] is False
        assert body["options"]["num_predict"] == 300 and body["options"]["temperature"] == 0.0
    else:
        expected = SCHEMA_FORMAT if case.alias == "openai-mini" else {"type": "json_object"}
        assert body["response_format"] == expected and body["max_tokens"] == 300
        key = {"groq-llama": "gsk-local", "openai-compatible": "local-key", "openai-mini": "sk-local"}
        assert auth == f"Bearer {key[case.alias]}"


def test_route_classifies_and_charges_the_budget(case: tuple[RouteCase, FakeOpenAI]) -> None:
    """Two redacted transcripts: requests as the route asks, valid classifications, exact token charge."""
    route_case, server = case
    config = route_config(route_case, server)
    limiter = RateLimiter(tpm=1_000_000, rpm=1_000, clock=FrozenClock())
    results = classify(config, list(TRANSCRIPTS), limiter=limiter)
    assert [r.status for r in results] == ["ok", "ok"], [r.error for r in results]
    assert len(server.requests) == 2 and all(r.status == 200 for r in server.requests)
    for result, (transcript, call_type) in zip(results, TRANSCRIPTS.items(), strict=True):
        (sent,) = [
            r for r in server.requests if extract_transcript(server.messages_of(r)) == transcript.strip()
        ]
        check_request(route_case, sent, server, transcript)
        assert result.parsed is not None and result.parsed.call_type == call_type
        assert result.route == route_case.alias and result.attempts == 1
        assert result.request_messages == build_messages(transcript)
    # The budget is charged what the server reported (usage / prompt_eval_count / inputTokens), no estimate.
    reported = sum(r.tokens_in + r.tokens_out for r in results)
    assert reported == server.counters.tokens_accepted > 0
    assert limiter.tokens.capacity - limiter.tokens.level == reported
    assert limiter.requests.capacity - limiter.requests.level == 2


def test_route_retries_429_500_and_a_broken_answer(case: tuple[RouteCase, FakeOpenAI]) -> None:
    """A 429 waits for its Retry-After, a 500 is retried, a broken answer gets its repair: one ok result."""
    route_case, server = case
    server.script(rate_limit("1"), server_error(500), broken())
    (result,) = classify(route_config(route_case, server), [REFUSAL])
    assert result.status == "ok", result.error
    assert result.parsed is not None and result.parsed.call_type == 1
    assert [r.status for r in server.requests] == [429, 500, 200, 200]
    assert result.attempts == 4 and result.rate_limited == 1
    first, second = server.requests[:2]
    assert second.at - first.at >= 0.95  # Retry-After: 1 was honoured
    repair = server.messages_of(server.requests[3])
    assert repair[:2] == build_messages(REFUSAL) and repair[2]["role"] == "assistant"
    assert "not valid" in repair[3]["content"]
    # Only the two answered requests are charged: the 429 and the 500 used nothing.
    assert result.tokens_in + result.tokens_out == server.counters.tokens_accepted
