"""A real local HTTP server speaking the OpenAI chat-completions protocol, for tests and benchmarks.

``FakeOpenAI`` starts a stdlib ``ThreadingHTTPServer`` on 127.0.0.1 (a free port) in a background thread and
answers ``POST /v1/chat/completions`` (and ``/chat/completions``) with OpenAI-shaped JSON, ``usage``
included. Point litellm's ``openai/<name>`` route at it with ``api_base=server.api_base``.

* Every request body is recorded (:attr:`FakeOpenAI.requests`).
* Replies can be scripted per request: :meth:`FakeOpenAI.script` queues actions (:func:`valid`,
  :func:`broken`, :func:`fenced`, :func:`invented_id`, :func:`rate_limit`, :func:`server_error`,
  :func:`slow`, :func:`raw`), optionally for one model name only; :meth:`FakeOpenAI.always` fixes the
  action of a model for good (a route that keeps failing).
* With nothing scripted it answers a valid classification derived from the transcript's keywords.
* It enforces TPM/RPM limits over a sliding window (a minute by default): a request that would exceed
  either gets ``429`` with a ``Retry-After`` header (whole seconds until enough of the window has expired).

Token counting (the server's own, reported in ``usage`` and charged to the TPM window): a text costs
``ceil(words * 4 / 3)`` tokens, where words are its whitespace-separated parts (about what tiktoken gives for
French prose); a prompt costs the sum over its messages of that plus 4 per message; a completion that plus 1.
A request is charged prompt + completion tokens when it is admitted (the server knows its reply by then).
Scripted 429s and 5xx are not charged; rejected requests count neither as requests nor as tokens.

Other providers' wire formats (``tests/fake_ollama.py``, ``tests/fake_bedrock.py``) subclass
:class:`FakeOpenAI` and override only the protocol hooks (:meth:`FakeOpenAI.accepts`,
:meth:`FakeOpenAI.model_of`, :meth:`FakeOpenAI.messages_of`, :meth:`FakeOpenAI.completion_body`,
:meth:`FakeOpenAI.error_body`, :meth:`FakeOpenAI.error_headers`): scripting, answers, token counting
and limits stay the same.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from inference.llm_schema import extract_transcript

PATHS = ("/v1/chat/completions", "/chat/completions")


@dataclass(frozen=True)
class Action:
    """What the server does with one request."""

    kind: str  # valid | raw | rate_limit | error | slow
    content: str | None = None  # raw: the assistant message to send
    retry_after: str | None = None  # rate_limit: the Retry-After header ('' = none)
    status: int = 500  # error: the HTTP status
    delay_s: float = 0.0  # slow: seconds to wait before doing `then`
    then: Action | None = None  # slow: what to do after the delay


def valid() -> Action:
    """A valid classification derived from the transcript (the default behaviour)."""
    return Action("valid")


def raw(content: str) -> Action:
    """Answer exactly this assistant message."""
    return Action("raw", content=content)


def broken() -> Action:
    """A truncated, unparseable JSON answer."""
    return raw('Voici la classification : {"call_type": 1, "behavior": 1, "sentiment": "neg')


def fenced(call_type: int = 4) -> Action:
    """A valid answer wrapped in a Markdown code fence and chatter (lenient parsing must accept it)."""
    body = json.dumps(_classification(call_type, "Le client confirme l'installation."), ensure_ascii=False)
    return raw(f"Bien sûr ! Voici le JSON :\n```json\n{body}\n```\nBonne journée.")


def invented_id(value: str = "CMD-9999999") -> Action:
    """A valid answer whose summary cites an order id that is not in the transcript."""
    payload = _classification(2, f"Le client reporte le rendez-vous de la commande {value}.")
    return raw(json.dumps(payload, ensure_ascii=False))


def rate_limit(retry_after: str | float | None = "1") -> Action:
    """A 429 with ``Retry-After: retry_after`` (seconds or an HTTP date; None: no header)."""
    return Action("rate_limit", retry_after="" if retry_after is None else str(retry_after))


def server_error(status: int = 500) -> Action:
    """A 5xx (or any other status) with an OpenAI-shaped error body."""
    return Action("error", status=status)


def slow(seconds: float, then: Action | None = None) -> Action:
    """Wait ``seconds`` before doing ``then`` (default: a valid answer)."""
    return Action("slow", delay_s=seconds, then=then or valid())


def estimate_tokens(text: str) -> int:
    """The server's token count of a text: ceil(whitespace words x 4/3)."""
    return math.ceil(len(text.split()) * 4 / 3)


def prompt_tokens(messages: list[dict[str, Any]]) -> int:
    """The server's token count of a prompt: per message its text plus 4."""
    return sum(estimate_tokens(str(m.get("content") or "")) + 4 for m in messages)


KEYWORDS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (0, ("messagerie", "répondeur", "repondeur", "bip", "injoignable", "pas disponible actuellement")),
    (1, ("refuse", "pas intéressé", "annuler", "ne veux pas")),
    (2, ("reporter", "reporte", "demain", "la semaine prochaine", "autre jour", "rappeler")),
    (3, ("absent", "pas à la maison", "pas chez moi", "en voyage", "pas là")),
)
LABELS = ("pas de conversation", "le client refuse", "le client reporte", "le client est absent", "autre")
RUDE = ("dégage", "degage", "imbécile", "ta gueule")
TOKEN = re.compile(r"\[[A-Z][A-Z_]*_\d+\]")


def classify_text(transcript: str) -> dict[str, Any]:
    """The default answer: a keyword classification; the summary cites the transcript's first token."""
    text = transcript.lower()
    call_type = 0 if not text.strip() else 4
    for kind, words in KEYWORDS:
        if any(w in text for w in words):
            call_type = kind
            break
    tokens = TOKEN.findall(transcript)
    who = f" avec {tokens[0]}" if tokens else ""
    summary = f"Appel du technicien{who} : {LABELS[call_type]}."
    payload = _classification(call_type, summary)
    payload["behavior"] = 0 if any(w in text for w in RUDE) else 1
    return payload


def _classification(call_type: int, summary: str) -> dict[str, Any]:
    sentiment = {0: "neutral", 1: "negative", 2: "neutral", 3: "neutral", 4: "positive"}[call_type]
    items = [] if call_type in (0, 4) else ["Rappeler le client"]
    return {
        "call_type": call_type,
        "behavior": 1,
        "sentiment": sentiment,
        "summary": summary,
        "action_items": items,
    }


@dataclass
class Recorded:
    """One request the server received."""

    at: float
    path: str
    body: dict[str, Any]
    text: str  # the body as received (what the test scans for leaked values)
    status: int = 0  # the status answered (0 while in progress)
    headers: dict[str, str] = field(default_factory=dict)  # request headers, names lower-cased


@dataclass
class Counters:
    """What the server did, for assertions and the benchmark."""

    requests: int = 0
    ok: int = 0
    rate_limited_sent: int = 0  # 429s sent (limit exceeded + scripted)
    limit_429: int = 0  # 429s sent because a TPM/RPM limit was exceeded
    errors_sent: int = 0
    tokens_accepted: int = 0
    accepted_log: list[tuple[float, int]] = field(default_factory=list)  # (time.monotonic(), tokens)


class _Window:
    """Sliding-window TPM/RPM accounting of admitted requests."""

    def __init__(self, tpm: int | None, rpm: int | None, window_s: float) -> None:
        self.tpm, self.rpm, self.window_s = tpm, rpm, window_s
        self.log: deque[tuple[float, int]] = deque()
        self.tokens = 0

    def _expire(self, now: float) -> None:
        while self.log and self.log[0][0] <= now - self.window_s:
            self.tokens -= self.log.popleft()[1]

    def admit(self, now: float, tokens: int) -> float | None:
        """Charge the request and return None, or return the seconds until it would fit."""
        self._expire(now)
        if self._fits(tokens):
            self.log.append((now, tokens))
            self.tokens += tokens
            return None
        return self._wait(now, tokens)

    def _fits(self, tokens: int, skip: int = 0, freed: int = 0) -> bool:
        rpm_ok = self.rpm is None or len(self.log) - skip + 1 <= self.rpm
        tpm_ok = self.tpm is None or self.tokens - freed + min(tokens, self.tpm) <= self.tpm
        return rpm_ok and tpm_ok

    def _wait(self, now: float, tokens: int) -> float:
        freed = 0
        for skip, (at, cost) in enumerate(self.log, start=1):
            freed += cost
            if self._fits(tokens, skip, freed):
                return at + self.window_s - now
        return self.window_s

    def usage(self, now: float) -> tuple[int, int]:
        self._expire(now)
        return len(self.log), self.tokens


class FakeOpenAI:
    """Context manager: a scripted, rate-limited OpenAI-compatible server on 127.0.0.1."""

    paths: tuple[str, ...] = PATHS

    def __init__(
        self,
        tpm: int | None = None,
        rpm: int | None = None,
        window_s: float = 60.0,
        latency_s: float = 0.0,
    ) -> None:
        self.window = _Window(tpm, rpm, window_s)
        self.latency_s = latency_s
        self.requests: list[Recorded] = []
        self.counters = Counters()
        self._script: dict[str | None, deque[Action]] = {}
        self._always: dict[str, Action] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------------
    def __enter__(self) -> FakeOpenAI:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Bind a free port and serve in a daemon thread."""
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name=type(self).__name__, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return self._server.server_address[1]

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- protocol (what a subclass for another provider's API overrides) --------------------------------
    def accepts(self, path: str) -> bool:
        """Whether ``path`` is a completion endpoint of this protocol."""
        return path in self.paths

    def model_of(self, rec: Recorded) -> str:
        """The model name a request asks for (what :meth:`script` and :meth:`always` match)."""
        return str(rec.body.get("model", ""))

    def messages_of(self, rec: Recorded) -> list[dict[str, Any]]:
        """The request's chat messages as ``{"role", "content": str}`` (what the answer is derived from)."""
        return rec.body.get("messages") or []

    def completion_body(
        self, rec: Recorded, model: str, content: str, usage_in: int, usage_out: int
    ) -> dict[str, Any]:
        """The JSON body of a successful answer."""
        return {
            "id": f"chatcmpl-fake-{id(rec)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "service_tier": "default",  # OpenAI and Groq send it; litellm's groq/ provider reads it
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": usage_in,
                "completion_tokens": usage_out,
                "total_tokens": usage_in + usage_out,
            },
        }

    def error_body(self, status: int, message: str, kind: str) -> dict[str, Any]:
        """The JSON body of an error answer (``kind``: rate_limit_exceeded, server_error, not_found)."""
        body: dict[str, Any] = {"message": message, "type": kind}
        if status == 429:
            body["code"] = "429"
        return {"error": body}

    def error_headers(self, status: int) -> dict[str, str]:
        """Headers sent with an error answer (besides ``Retry-After``)."""
        return {}

    # -- scripting -------------------------------------------------------------------------------------
    def script(self, *actions: Action, model: str | None = None) -> None:
        """Queue actions for the next requests (of ``model`` only, when given; names as sent, no prefix)."""
        with self._lock:
            self._script.setdefault(model, deque()).extend(actions)

    def always(self, model: str, action: Action) -> None:
        """Every request for ``model`` gets ``action`` (until :meth:`clear`)."""
        with self._lock:
            self._always[model] = action

    def clear(self) -> None:
        with self._lock:
            self._script.clear()
            self._always.clear()

    def _next_action(self, model: str) -> Action:
        with self._lock:
            if model in self._always:
                return self._always[model]
            for key in (model, None):
                queue = self._script.get(key)
                if queue:
                    return queue.popleft()
        return valid()

    # -- observations ----------------------------------------------------------------------------------
    def bodies(self) -> list[str]:
        """Every request body as received."""
        with self._lock:
            return [r.text for r in self.requests]

    def window_usage(self) -> tuple[int, int]:
        """(requests, tokens) admitted in the current sliding window."""
        with self._lock:
            return self.window.usage(time.monotonic())

    def tokens_between(self, start: float, end: float) -> int:
        """Tokens admitted with ``start <= time.monotonic() < end``."""
        with self._lock:
            return sum(tokens for at, tokens in self.counters.accepted_log if start <= at < end)

    # -- serving ---------------------------------------------------------------------------------------
    def _record(self, path: str, text: str, headers: dict[str, str] | None = None) -> Recorded:
        try:
            body = json.loads(text)
        except json.JSONDecodeError:
            body = {}
        rec = Recorded(time.monotonic(), path, body, text, headers=headers or {})
        with self._lock:
            self.requests.append(rec)
            self.counters.requests += 1
        return rec

    def respond(self, rec: Recorded) -> tuple[int, dict[str, str], dict[str, Any], float]:
        """(status, headers, JSON body, delay before answering) for one recorded request."""
        model = self.model_of(rec)
        action = self._next_action(model)
        delay = 0.0
        while action.kind == "slow":
            delay += action.delay_s
            action = action.then or valid()
        if action.kind == "rate_limit":
            return self._rate_limited(action.retry_after, "scripted", delay)
        if action.kind == "error":
            with self._lock:
                self.counters.errors_sent += 1
            body = self.error_body(action.status, f"fake server error {action.status}", "server_error")
            return action.status, self.error_headers(action.status), body, delay
        return self._completion(rec, model, action, delay)

    def _completion(self, rec: Recorded, model: str, action: Action, delay: float):
        messages = self.messages_of(rec)
        content = action.content
        if content is None:
            content = json.dumps(classify_text(extract_transcript(messages)), ensure_ascii=False)
        usage_in, usage_out = prompt_tokens(messages), estimate_tokens(content) + 1
        with self._lock:
            wait = self.window.admit(time.monotonic(), usage_in + usage_out)
            if wait is None:
                self.counters.ok += 1
                self.counters.tokens_accepted += usage_in + usage_out
                self.counters.accepted_log.append((time.monotonic(), usage_in + usage_out))
        if wait is not None:
            return self._rate_limited(str(max(1, math.ceil(wait))), "limit", 0.0)
        body = self.completion_body(rec, model, content, usage_in, usage_out)
        return 200, {}, body, delay + self.latency_s

    def _rate_limited(self, retry_after: str | None, why: str, delay: float):
        with self._lock:
            self.counters.rate_limited_sent += 1
            self.counters.limit_429 += why == "limit"
        headers = self.error_headers(429) | ({"Retry-After": retry_after} if retry_after else {})
        body = self.error_body(429, f"rate limit ({why})", "rate_limit_exceeded")
        return 429, headers, body, delay


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (a timed-out call) is not an error; anything else is printed."""
        import sys

        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenAI
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        """Silence the per-request log lines."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        text = self.rfile.read(length).decode("utf-8", errors="replace")
        path = self.path.split("?", 1)[0]
        if not self.fake.accepts(path):
            self._send(404, {}, self.fake.error_body(404, f"no route {path}", "not_found"))
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        rec = self.fake._record(path, text, headers)
        status, headers, body, delay = self.fake.respond(rec)
        rec.status = status
        if delay:
            time.sleep(delay)
        self._send(status, headers, body)

    def _send(self, status: int, headers: dict[str, str], body: dict[str, Any]) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (timeout): nothing to answer


def router_config_file(api_base: str, folder: Path, max_concurrency: int = 4) -> Path:
    """An ``llm.yaml`` in ``folder`` that routes every call to the server at ``api_base`` (one retry, a
    10 s timeout, 600 requests a minute)."""
    import yaml

    config = {
        "default_model": "remote",
        "model_list": [
            {
                "model_name": "remote",
                "litellm_params": {
                    "model": "openai/fake-model",
                    "api_base": api_base,
                    "api_key": "sk-test",
                    "timeout": 10,
                    "max_tokens": 200,
                },
                "model_info": {"response_format": "json_object"},
            }
        ],
        "router_settings": {"num_retries": 1, "retry_backoff_s": 0.1},
        "budget": {"rpm": 600, "max_concurrency": max_concurrency},
    }
    path = folder / "llm.yaml"
    path.write_text(yaml.safe_dump(config))
    return path
