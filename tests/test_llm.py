"""The LLM calling layer against a real local OpenAI-compatible server (tests/fake_openai.py), through
litellm's ``openai/<name>`` route: parsing, repair, 429s, retries, timeouts, fallbacks, the shared budget,
redaction of what is sent, the output audit and the router file's errors. Also the limiter on a fake clock.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import re
import sys
import time
import types
from pathlib import Path
from typing import Any

import pytest

from inference.budget import RateLimiter
from inference.llm import (
    CallRequest,
    CallResult,
    LlmConfig,
    LlmConfigError,
    classify_many,
    completion_kwargs,
    load_llm_config,
    parse_llm_config,
    parse_reply,
    parse_retry_after,
)
from inference.llm_audit import Violation, audit, digitize
from inference.llm_schema import PROMPT_VERSION, RESPONSE_SCHEMA, build_messages, repair_messages
from tests.fake_openai import (
    FakeOpenAI,
    broken,
    fenced,
    invented_id,
    prompt_tokens,
    rate_limit,
    raw,
    server_error,
    slow,
)

# litellm's own types warn once when pydantic first builds their schemas; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:Item 'summary' on TypedDict:UserWarning")
ROOT = Path(__file__).resolve().parent.parent
ONE_ROUTE = "model_list:\n  - model_name: classifier\n    litellm_params: {model: local/x}\n"
REFUSAL = "[PERSON_1]: allô ? technicien: bonjour, c'est pour l'installation. [PERSON_1]: non je refuse."


# -- helpers -----------------------------------------------------------------------------------------------
def route(name: str, server: FakeOpenAI, **params: Any) -> dict[str, Any]:
    litellm_params = {"model": f"openai/{name}", "api_base": server.api_base, "api_key": "sk-test"}
    litellm_params.update({"max_tokens": 300, "timeout": 5, **params})
    return {
        "model_name": name,
        "litellm_params": litellm_params,
        "model_info": {"response_format": "json_schema"},
    }


def make_config(
    server: FakeOpenAI, fallback: bool = False, budget: dict | None = None, **params: Any
) -> LlmConfig:
    routes = [route("primary", server, **params)] + ([route("backup", server)] if fallback else [])
    data = {
        "default_model": "primary",
        "model_list": routes,
        "router_settings": {
            "num_retries": 1,
            "retry_backoff_s": 0.05,
            "max_backoff_s": 0.2,
            "rate_limit_jitter_s": 0.05,
            "fallbacks": [{"primary": ["backup"]}] if fallback else [],
        },
        "budget": {"max_concurrency": 4, **(budget or {})},
    }
    return parse_llm_config(data, "test-config")


def classify(config: LlmConfig, transcripts: list[str], **kwargs: Any) -> list[CallResult]:
    """classify_many over ``transcripts`` (keys k0, k1...); the results in the order they were delivered."""
    results: list[CallResult] = []
    requests = [CallRequest(f"k{i}", text) for i, text in enumerate(transcripts)]
    asyncio.run(classify_many(requests, config, results.append, seed=1, **kwargs))
    return results


@pytest.fixture()
def server():
    with FakeOpenAI() as fake:
        yield fake


# -- answers -----------------------------------------------------------------------------------------------
def test_valid_reply_is_parsed_and_accounted(server: FakeOpenAI) -> None:
    (result,) = classify(make_config(server), [REFUSAL])
    assert result.status == "ok" and result.error is None
    assert result.parsed is not None and result.parsed.call_type == 1
    assert result.key == "k0" and result.prompt_version == PROMPT_VERSION
    assert result.model == "openai/primary" and result.route == "primary"
    assert result.attempts == 1 and result.rate_limited == 0
    (sent,) = server.requests
    assert result.request_messages == build_messages(REFUSAL) == sent.body["messages"]
    assert sent.body["response_format"] == {"type": "json_schema", "json_schema": RESPONSE_SCHEMA}
    answer = json.loads(result.raw_response or "")
    assert answer["call_type"] == 1
    assert result.tokens_in > 0 and result.tokens_out > 0  # the server's usage, not an estimate
    assert result.cost_usd == 0.0  # unknown model: no price
    assert audit(result.parsed, REFUSAL, set()) == []


def test_response_format_follows_the_route_flag(server: FakeOpenAI) -> None:
    config = make_config(server)
    config.model_list[0].model_info.response_format = "json_object"
    classify(config, [REFUSAL])
    config.model_list[0].model_info.response_format = "none"
    classify(config, [REFUSAL])
    assert server.requests[0].body["response_format"] == {"type": "json_object"}
    assert "response_format" not in server.requests[1].body


def test_lenient_parsing() -> None:
    good = json.dumps(
        {"call_type": 2, "behavior": 1, "sentiment": "neutral", "summary": "RDV {demain}", "action_items": []}
    )
    for text in (good, f"Voici :\n```json\n{good}\n```", f"Résultat {good} merci", f"{{pas json}} {good}"):
        parsed, error = parse_reply(text)
        assert error is None and parsed is not None and parsed.summary == "RDV {demain}", text
    assert parse_reply("")[1] == "empty answer"
    assert parse_reply("no json here")[1] == "no JSON object in the answer"
    assert "invalid JSON" in (parse_reply('{"call_type": 1, ')[1] or "")
    assert "call_type" in (parse_reply(good.replace('"call_type": 2', '"call_type": 9'))[1] or "")


def test_fenced_reply_is_ok_without_repair(server: FakeOpenAI) -> None:
    server.script(fenced(4))
    (result,) = classify(make_config(server), [REFUSAL])
    assert result.status == "ok" and result.attempts == 1 and result.parsed.call_type == 4


def test_broken_json_gets_one_repair_retry(server: FakeOpenAI) -> None:
    server.script(broken())
    (result,) = classify(make_config(server), [REFUSAL])
    assert result.status == "ok" and result.attempts == 2 and result.parsed.call_type == 1
    first, second = server.requests
    bad = broken().content or ""
    assert second.body["messages"] == repair_messages(build_messages(REFUSAL), bad, second_error(bad))
    assert "not valid" in second.body["messages"][3]["content"]
    assert result.request_messages == second.body["messages"]
    assert result.tokens_in == sum(prompt_tokens(r.body["messages"]) for r in (first, second))


def second_error(bad: str) -> str:
    """What the repair message says was wrong with ``bad``."""
    return parse_reply(bad)[1] or ""


def test_twice_broken_is_invalid_with_raw_kept(server: FakeOpenAI) -> None:
    server.script(broken(), raw("toujours pas de JSON"))
    (result,) = classify(make_config(server), [REFUSAL])
    assert result.status == "invalid" and result.parsed is None and result.attempts == 2
    assert result.raw_response == "toujours pas de JSON"
    assert result.request_messages[2]["content"] == broken().content  # the first answer is kept too
    assert "after one repair retry" in (result.error or "")
    assert len(server.requests) == 2  # exactly one repair, no more


def test_invented_id_is_an_audit_violation(server: FakeOpenAI) -> None:
    server.script(invented_id("CMD-9999999"))
    transcript = "technicien: bonjour [PERSON_1], commande CMD-0001234, on reporte à demain ?"
    (result,) = classify(make_config(server), [transcript])
    assert result.status == "ok"  # well-formed; the audit judges the content
    assert audit(result.parsed, transcript, set()) == [Violation("id", "CMD-9999999", "summary")]


# -- errors, retries, fallbacks ----------------------------------------------------------------------------
@pytest.mark.parametrize("header", ["1", "date"])
def test_429_waits_for_retry_after_and_is_not_dropped(server: FakeOpenAI, header: str) -> None:
    value = email.utils.formatdate(time.time() + 2, usegmt=True) if header == "date" else header
    server.script(rate_limit(value))
    (result,) = classify(make_config(server), [REFUSAL])
    assert result.status == "ok" and result.rate_limited == 1 and result.attempts == 2
    first, second = server.requests
    assert first.status == 429 and second.status == 200
    assert second.at - first.at >= 0.95


def test_retry_after_parsing() -> None:
    now = 1_000_000.0
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now=now) == pytest.approx(
        30, abs=1
    )
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_429_without_header_backs_off_and_never_counts_as_failure(server: FakeOpenAI) -> None:
    server.script(*[rate_limit(None)] * 4)  # more 429s than num_retries (1): still answered
    (result,) = classify(make_config(server), [REFUSAL])
    assert result.status == "ok" and result.rate_limited == 4 and result.attempts == 5
    assert result.route == "primary"


def test_500_then_ok(server: FakeOpenAI) -> None:
    server.script(server_error(500))
    (result,) = classify(make_config(server), [REFUSAL])
    assert result.status == "ok" and result.attempts == 2 and result.rate_limited == 0
    assert [r.status for r in server.requests] == [500, 200]


def test_slow_reply_beyond_timeout_is_retried(server: FakeOpenAI) -> None:
    server.script(slow(3))
    started = time.monotonic()
    (result,) = classify(make_config(server, timeout=0.5), [REFUSAL])
    assert result.status == "ok" and result.attempts == 2
    assert time.monotonic() - started < 2.5  # gave up on the slow reply, did not wait for it


def test_fallback_answers_when_the_first_route_keeps_failing(server: FakeOpenAI) -> None:
    server.always("primary", server_error(503))
    (result,) = classify(make_config(server, fallback=True), [REFUSAL])
    assert result.status == "ok" and result.route == "backup" and result.model == "openai/backup"
    assert [r.body["model"] for r in server.requests] == ["primary", "primary", "backup"]  # 1 + 1 retry
    assert result.attempts == 3


def test_client_error_skips_retries_and_all_failed_is_reported(server: FakeOpenAI) -> None:
    server.always("primary", server_error(400))
    server.always("backup", server_error(500))
    (result,) = classify(make_config(server, fallback=True), [REFUSAL])
    assert result.status == "failed" and result.parsed is None and result.raw_response is None
    assert [r.body["model"] for r in server.requests] == ["primary", "backup", "backup"]
    assert "primary (openai/primary)" in result.error and "backup (openai/backup)" in result.error
    assert result.request_messages == build_messages(REFUSAL)


def test_slow_calls_do_not_hold_back_the_others(server: FakeOpenAI) -> None:
    server.script(slow(1.5))
    results = classify(make_config(server), [REFUSAL, "bonjour, je serai absent"])
    assert all(r.status == "ok" for r in results)
    assert [r.latency_s >= 1.4 for r in results] == [False, True]  # each delivered as soon as known


def test_async_on_result_and_progress(server: FakeOpenAI) -> None:
    seen: list[str] = []
    ticks: list[tuple[int, int | None]] = []

    async def store(result: CallResult) -> None:
        await asyncio.sleep(0)
        seen.append(result.key)

    requests = [CallRequest(f"k{i}", REFUSAL) for i in range(3)]
    stats = asyncio.run(
        classify_many(requests, make_config(server), store, lambda d, t: ticks.append((d, t)))
    )
    assert sorted(seen) == ["k0", "k1", "k2"] and ticks[-1] == (3, 3)
    assert stats.ok == 3 and stats.done == 3 and stats.tokens_in > 0


def test_on_result_failure_stops_the_run(server: FakeOpenAI) -> None:
    def explode(result: CallResult) -> None:
        raise RuntimeError("database is gone")

    requests = (CallRequest(f"k{i}", REFUSAL) for i in range(50))
    with pytest.raises(RuntimeError, match="database is gone"):
        asyncio.run(classify_many(requests, make_config(server), explode))
    assert len(server.requests) < 50


def test_limiter_keeps_a_burst_under_the_server_limits(server: FakeOpenAI) -> None:
    """Server: RPM 5 and TPM 2,000 per 2 s window. With the same budget on the client a burst of 10 calls
    gets at most a few 429s; without it, many, yet every call is answered either way."""
    classify(make_config(server), [REFUSAL])  # warm litellm up: its first call in a process is slow
    transcripts = [f"{REFUSAL} appel {i}" for i in range(10)]
    for budgeted in (True, False):
        with FakeOpenAI(rpm=5, tpm=2000, window_s=2.0) as fake:
            config = make_config(fake, budget={"max_concurrency": 6})
            limiter = RateLimiter(tpm=2000, rpm=5, period_s=2.0) if budgeted else RateLimiter(None, None)
            results = classify(config, transcripts, limiter=limiter)
            assert sorted(r.key for r in results) == sorted(f"k{i}" for i in range(10))
            assert all(r.status == "ok" for r in results) and fake.counters.ok == 10
            assert sum(r.rate_limited for r in results) == fake.counters.rate_limited_sent
            if budgeted:
                assert fake.counters.limit_429 <= 3
            else:
                assert fake.counters.limit_429 >= 5


def test_no_vault_value_is_ever_sent(server: FakeOpenAI) -> None:
    vault = {
        "[PERSON_1]": "Yasmine Benali",
        "[PHONE_1]": "0612345678",
        "[PHONE_2]": "+212 6 61 23 45 67",
        "[EMAIL_1]": "y.benali@example.ma",
        "[ADDRESS_1]": "12 rue des Orangers, Casablanca",
    }
    clear = [
        "technicien: bonjour Yasmine Benali, je suis devant le 12 rue des Orangers, Casablanca.",
        "client: rappelez-moi au 0612345678 ou au +212 6 61 23 45 67, je reporte à demain.",
        "client: écrivez à y.benali@example.ma, je refuse l'installation.",
    ]
    redacted = []
    for text in clear:
        for token, value in vault.items():
            text = text.replace(value, token)
        redacted.append(text)
    server.script(broken(), rate_limit("1"), server_error(500))  # repairs and retries resend the messages
    results = classify(make_config(server), redacted)
    assert all(r.status == "ok" for r in results) and len(server.requests) >= 6
    bodies = server.bodies()
    for token, value in vault.items():
        assert all(value not in redacted_text for redacted_text in redacted)
        for body in bodies:
            assert value.lower() not in body.lower()
            assert json.dumps(value)[1:-1] not in body  # nor JSON-escaped
            if "PHONE" in token:
                assert re.sub(r"\D", "", value) not in re.sub(r"\D", "", body)
    assert any("[PERSON_1]" in body for body in bodies)  # the tokens do go


# -- the router file ---------------------------------------------------------------------------------------
def test_shipped_config_loads_with_the_local_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CALLAUDIT_LLM_CONFIG", raising=False)
    config = load_llm_config()
    assert config.source.endswith("config/llm.yaml")
    (default,) = config.chain()
    assert default.model_name == "classifier" and default.litellm_params.model == "local/callaudit-classifier"
    assert config.budget.max_concurrency >= 1


def test_commented_production_routes_are_valid(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Uncommenting every route of the shipped file gives a valid config whose secrets come from the env."""
    text = (ROOT / "config" / "llm.yaml").read_text(encoding="utf-8")
    models_part, rest = text.split("\nrouter_settings:", 1)
    lines = [re.sub(r"^  # (?=- |  )", "  ", line) for line in models_part.splitlines()]
    path = tmp_path / "llm.yaml"
    path.write_text("\n".join(lines) + "\nrouter_settings:" + rest, encoding="utf-8")
    monkeypatch.setenv("CALLAUDIT_LLM_CONFIG", str(path))
    config = load_llm_config()
    models = {r.model_name: r.litellm_params.model for r in config.model_list}
    assert models == {
        "classifier": "local/callaudit-classifier",
        "bedrock-claude": "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0",
        "groq-llama": "groq/llama-3.1-8b-instant",
        "ollama-llama": "ollama_chat/llama3.1",
        "openai-compatible": "openai/Qwen2.5-7B-Instruct",
        "openai-mini": "openai/gpt-4o-mini",
    }
    messages = build_messages("bonjour")
    with pytest.raises(LlmConfigError, match="GROQ_API_KEY is not set"):
        completion_kwargs(config.route("groq-llama"), messages, config)
    monkeypatch.setenv("GROQ_API_KEY", "gsk-test")
    kwargs = completion_kwargs(config.route("groq-llama"), messages, config)
    assert kwargs["api_key"] == "gsk-test" and kwargs["response_format"] == {"type": "json_object"}
    assert kwargs["num_retries"] == 0 and kwargs["max_retries"] == 0 and kwargs["timeout"] == 30


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("budget: [", "not valid YAML"),
        ("- a\n- b\n", "expected a mapping"),
        ("model_list: []\n", "model_list: List should have at least 1 item"),
        (
            "model_list:\n  - model_name: classifier\n    litellm_params: {max_tokens: 10}\n",
            "model_list[0](classifier).litellm_params.model: Field required",
        ),
        (
            ONE_ROUTE + "budget: {tpm: -5}\n",
            "budget.tpm: Input should be greater than 0 (got -5)",
        ),
        (
            ONE_ROUTE + "budget: {tmp: 5}\n",
            "budget.tmp: Extra inputs are not permitted",
        ),
        (
            ONE_ROUTE + "    model_info: {response_format: xml}\n",
            "model_list[0](classifier).model_info.response_format: Input should be",
        ),
        (
            ONE_ROUTE + "router_settings: {fallbacks: [{classifier: [groq]}]}\n",
            "router_settings.fallbacks[0]: 'groq' is not a model_name",
        ),
        (
            "default_model: gpt\n" + ONE_ROUTE,
            "default_model: 'gpt' is not a model_name",
        ),
    ],
)
def test_config_errors_name_the_file_and_the_field(tmp_path: Path, yaml_text: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(LlmConfigError) as caught:
        load_llm_config(path)
    assert str(path) in str(caught.value) and expected in str(caught.value), str(caught.value)


def test_missing_config_file_says_how_to_point_at_one(tmp_path: Path) -> None:
    with pytest.raises(LlmConfigError, match="CALLAUDIT_LLM_CONFIG"):
        load_llm_config(tmp_path / "nowhere.yaml")


def test_unknown_route_and_unset_secret(server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    config = make_config(server, api_key="os.environ/CALLAUDIT_TEST_UNSET_KEY")
    with pytest.raises(LlmConfigError, match="no model_name 'gpt'"):
        classify(config, [REFUSAL], model="gpt")
    monkeypatch.delenv("CALLAUDIT_TEST_UNSET_KEY", raising=False)
    (result,) = classify(config, [REFUSAL])
    assert result.status == "failed" and "CALLAUDIT_TEST_UNSET_KEY is not set" in (result.error or "")
    assert result.attempts == 0 and server.requests == []


def test_local_provider_is_registered_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    """A `local/` route imports inference.local_llm.register_local_provider on first use, and only then."""
    import litellm

    import inference.llm.routes as routes  # where ensure_provider keeps its flag

    calls: list[str] = []

    class Local(litellm.CustomLLM):
        async def acompletion(self, *args: Any, **kwargs: Any) -> litellm.ModelResponse:
            calls.append(kwargs["optional_params"].get("response_format", {}).get("type", "none"))
            content = json.dumps(
                {
                    "call_type": 3,
                    "behavior": 1,
                    "sentiment": "neutral",
                    "summary": "absent",
                    "action_items": [],
                }
            )
            return litellm.ModelResponse(choices=[{"message": {"role": "assistant", "content": content}}])

    def register_local_provider() -> None:
        litellm.custom_provider_map = [{"provider": "local", "custom_handler": Local()}]
        litellm.utils.custom_llm_setup()

    fake_module = types.ModuleType("inference.local_llm")
    fake_module.register_local_provider = register_local_provider  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "inference.local_llm", fake_module)
    monkeypatch.setattr(litellm, "custom_provider_map", list(litellm.custom_provider_map))
    monkeypatch.setattr(routes, "_local_registered", False)
    config = parse_llm_config(
        {
            "model_list": [
                {
                    "model_name": "classifier",
                    "litellm_params": {"model": "local/callaudit-classifier", "max_tokens": 50},
                    "model_info": {"response_format": "json_schema"},
                }
            ]
        }
    )
    (result,) = classify(config, ["je suis absent"])
    assert result.status == "ok" and result.parsed.call_type == 3 and calls == ["json_schema"]
    assert routes._local_registered is True


# -- the audit ---------------------------------------------------------------------------------------------
def test_audit_accepts_what_the_input_says_in_any_spelling() -> None:
    text = (
        "[PERSON_1] bonjour, commande CMD-0001234, ticket TCK00012340. on passe le douze mars à "
        "quatorze heures trente, ou le 2026-11-20, sinon 21/11/2026. rappelez au 06 12 34 56 78, 3 fois."
    )
    answer = {
        "call_type": 2,
        "behavior": 1,
        "sentiment": "neutral",
        "summary": "[person_1] reporte au 12/03 à 14h30 (cmd-0001234, TCK-00012340), le 20 novembre 2026.",
        "action_items": ["Rappeler le 0612345678 le 21/11", "Rappeler [PHONE_3]", "3 appels"],
    }
    assert audit(answer, text, {"[PHONE_3]"}) == []


def test_audit_flags_every_kind_of_invented_claim() -> None:
    text = "[PERSON_1]: je reporte, commande CMD-0001234, le 12 mars."
    answer = {
        "call_type": 4,  # schema fields are not claims
        "behavior": 0,
        "summary": "[PERSON_2] reporte CMD-0009999 au 13 mars, 2 fois, réf 45678.",
        "action_items": ["Appeler le 06 98 76 54 32", "Passer le 2026-03-12 ou le 14/03/2026"],
    }
    found = {(v.kind, v.value, v.field) for v in audit(answer, text, set())}
    assert found == {
        ("token", "[PERSON_2]", "summary"),
        ("id", "CMD-0009999", "summary"),
        ("date", "13 mars", "summary"),
        ("number", "2", "summary"),
        ("id", "45678", "summary"),
        ("phone", "06 98 76 54 32", "action_items[0]"),
        ("date", "14/03/2026", "action_items[1]"),
    }  # 2026-03-12 is backed: '12 mars' has no year


def test_digitize_reads_french_numbers() -> None:
    said = digitize(
        "vingt et un, quatre-vingt-dix-sept, soixante-douze, deux mille vingt-six, zéro six douze"
    )
    assert said.split(",") == [" 21 ", "  97 ", "  72 ", "  2026 ", "  0 6 12"]


# -- the limiter on a fake clock ---------------------------------------------------------------------------
class FakeClock:
    """Time moves only when the test says so; sleepers wake when their deadline has passed."""

    def __init__(self) -> None:
        self.t = 0.0
        self.sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        self.sleepers.append((self.t + seconds, future))
        await future

    async def run(self, seconds: float, step: float = 0.01) -> None:
        """Let everything due run, then move time on by ``step``, until ``seconds`` have passed."""
        end = self.t + seconds
        while True:
            await self._settle()
            if self.t >= end - 1e-9:
                return
            self.t = round(self.t + step, 6)

    async def _settle(self) -> None:
        for _ in range(3):
            for deadline, future in self.sleepers:
                if deadline <= self.t + 1e-9 and not future.done():
                    future.set_result(None)
            self.sleepers = [(d, f) for d, f in self.sleepers if not f.done()]
            for _ in range(5):
                await asyncio.sleep(0)


def limiter_scenario(body):
    async def main():
        clock = FakeClock()
        served: list[tuple[str, float]] = []

        async def take(limiter: RateLimiter, name: str, tokens: float) -> None:
            await limiter.acquire(tokens)
            served.append((name, round(clock.t, 2)))

        await body(clock, take, served)
        return served

    return asyncio.run(main())


def test_limiter_refills_continuously_and_serves_fifo() -> None:
    async def body(clock, take, served):
        limiter = RateLimiter(tpm=600, rpm=None, burst_s=1, clock=clock)  # 10 tokens/s, capacity 10
        await limiter.acquire(10)
        tasks = [asyncio.create_task(take(limiter, name, n)) for name, n in (("a", 5), ("big", 10), ("c", 1))]
        await clock.run(3.0)
        await asyncio.gather(*tasks)

    served = limiter_scenario(body)
    assert served == [("a", 0.5), ("big", 1.5), ("c", 1.6)]  # c does not overtake big


def test_limiter_requests_bucket_and_unlimited() -> None:
    async def body(clock, take, served):
        limiter = RateLimiter(tpm=None, rpm=60, clock=clock)  # 1 request/s, capacity 60
        for _ in range(60):
            await limiter.acquire(1_000_000)
        task = asyncio.create_task(take(limiter, "61st", 5))
        await clock.run(1.5)
        await task
        free = RateLimiter(None, None, clock=clock)
        assert await free.acquire(10**9) == 0.0

    assert limiter_scenario(body) == [("61st", 1.0)]


def test_limiter_adjust_gives_back_and_charges() -> None:
    async def body(clock, take, served):
        limiter = RateLimiter(tpm=600, rpm=None, burst_s=1, clock=clock)
        await limiter.acquire(10)
        task = asyncio.create_task(take(limiter, "early", 8))
        await clock.run(0.1)
        limiter.adjust(-7)  # the call used 7 tokens less than reserved: 1 + 7 = 8 now
        await clock.run(0.05)
        await task
        limiter.adjust(+10)  # under-estimated another call by 10: debt
        late = asyncio.create_task(take(limiter, "late", 1))
        await clock.run(2.0)
        await late

    assert limiter_scenario(body) == [("early", 0.1), ("late", 1.2)]


def test_limiter_pause_stops_everyone_and_restarts_empty() -> None:
    async def body(clock, take, served):
        limiter = RateLimiter(tpm=600, rpm=60, burst_s=1, clock=clock)  # full buckets
        limiter.pause_until(2.0)
        tasks = [asyncio.create_task(take(limiter, name, 2)) for name in ("a", "b")]
        await clock.run(4.0)
        await asyncio.gather(*tasks)

    # nothing before 2.0; then the buckets refill from empty: 2 tokens take 0.2 s, a request 1 s
    assert limiter_scenario(body) == [("a", 3.0), ("b", 4.0)]


def test_limiter_cancelled_waiter_leaves_the_queue() -> None:
    async def body(clock, take, served):
        limiter = RateLimiter(tpm=600, rpm=None, burst_s=1, clock=clock)
        await limiter.acquire(10)
        stuck = asyncio.create_task(take(limiter, "cancelled", 10))
        after = asyncio.create_task(take(limiter, "next", 2))
        await clock.run(0.1)
        stuck.cancel()
        await clock.run(0.2)
        await after
        assert limiter.queued == 0

    assert limiter_scenario(body) == [("next", 0.2)]
