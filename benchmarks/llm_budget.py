"""How much of a provider's token budget classify_many uses, without losing a call, against a real server.

Starts tests/fake_openai.FakeOpenAI with a TPM and RPM limit over a sliding window (a minute by default; it
answers 429 + Retry-After beyond it), points an ``openai/<name>`` route at it with the same budget in the
config, and feeds classify_many synthetic redacted transcripts for ``--seconds`` (a lazy stream: it stops
handing out requests at the deadline, then every request already taken is finished). Reports the share of
the TPM budget the server accepted over the run (tokens accepted / (tpm x run minutes); target >= 95%), the
requests lost (taken but never answered ok; target 0), the 429s received, and the requests an immediate
re-run makes when the answered keys are remembered (an in-memory set, as the pipeline's raw.llm_calls lookup
skips answered keys before calling; target 0). Prints a table and writes benchmarks/results/llm_budget.json.

    /tmp/venv-next/bin/python benchmarks/llm_budget.py [--seconds 120] [--tpm 100000] [--rpm 600]
    /tmp/venv-next/bin/python benchmarks/llm_budget.py --seconds 20 --period 10    # quick: 10 s windows
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inference.budget import RateLimiter  # noqa: E402
from inference.llm import CallRequest, CallResult, LlmConfig, classify_many, parse_llm_config  # noqa: E402
from tests.fake_openai import FakeOpenAI  # noqa: E402

OPENINGS = [
    "technicien: bonjour [PERSON_1], c'est le technicien pour votre fibre, commande CMD-{n:07d}.",
    "technicien: allô [PERSON_1] ? je vous appelle au sujet du ticket TCK{n:08d} pour votre ligne ADSL.",
    "technicien: bonjour, je suis devant chez vous au [ADDRESS_1] pour la commande CMD-{n:07d}.",
]
MIDDLES = [
    "client: ah non je refuse, je ne veux plus de cette installation, annulez.",
    "client: je ne peux pas aujourd'hui, on peut reporter à demain matin ?",
    "client: je suis absent cette semaine, je suis en voyage.",
    "client: oui oui je vous attends, montez au deuxième étage.",
    "vous êtes bien sur la messagerie de [PERSON_1], laissez un message après le bip.",
]
FILLER = (
    "technicien: d'accord je note, je vais mettre à jour le dossier et vous recevrez un message de "
    "confirmation sur le [PHONE_1]. client: merci beaucoup, bonne journée à vous aussi."
)


def transcripts(rng: random.Random) -> Iterator[tuple[str, str]]:
    """An endless stream of (key, redacted transcript), 60 to 150 words each."""
    n = 0
    while True:
        n += 1
        parts = [rng.choice(OPENINGS).format(n=n), rng.choice(MIDDLES)]
        parts += [FILLER] * rng.randint(1, 4)
        yield f"bench-{n:07d}", " ".join(parts)


def bench_config(server: FakeOpenAI, tpm: int, rpm: int, concurrency: int, burst_s: float) -> LlmConfig:
    """One openai/ route to the fake server, with the server's limits as the run's budget."""
    route = {
        "model_name": "classifier",
        "litellm_params": {
            "model": "openai/bench",
            "api_base": server.api_base,
            "api_key": "sk-bench",
            "max_tokens": 200,
            "timeout": 30,
        },
        "model_info": {"response_format": "json_schema"},
    }
    return parse_llm_config(
        {
            "model_list": [route],
            "router_settings": {"num_retries": 2, "retry_backoff_s": 0.2, "rate_limit_jitter_s": 0.5},
            "budget": {"tpm": tpm, "rpm": rpm, "max_concurrency": concurrency, "burst_s": burst_s},
        },
        "benchmark",
    )


def warm_up() -> None:
    """litellm's first call in a process is slow (seconds); make it outside the measurement."""
    with FakeOpenAI() as server:
        config = bench_config(server, 10**9, 10**6, 1, 60)
        asyncio.run(classify_many([CallRequest("warm", "bonjour")], config, lambda r: None))


async def run_for(
    config: LlmConfig, stream: Iterator[tuple[str, str]], seconds: float, limiter: RateLimiter | None
) -> tuple[list[CallResult], list[str], float]:
    """classify_many on ``stream`` until ``seconds`` have passed; (results, keys taken, elapsed)."""
    taken: list[str] = []
    results: list[CallResult] = []
    deadline = time.monotonic() + seconds

    def requests() -> Iterator[CallRequest]:
        for key, text in stream:
            if time.monotonic() >= deadline:
                return
            taken.append(key)
            yield CallRequest(key, text)

    started = time.monotonic()
    await classify_many(requests(), config, results.append, limiter=limiter, seed=7)
    return results, taken, time.monotonic() - started


def measure(args: argparse.Namespace) -> dict[str, Any]:
    warm_up()
    rng = random.Random(11)
    with FakeOpenAI(tpm=args.tpm, rpm=args.rpm, window_s=args.period, latency_s=args.latency) as server:
        config = bench_config(server, args.tpm, args.rpm, args.concurrency, args.burst or args.period)
        limiter = None  # the config's budget: per minute
        if args.period != 60:
            limiter = RateLimiter(args.tpm, args.rpm, period_s=args.period, burst_s=args.burst or args.period)
        texts: dict[str, str] = {}
        stream = ((k, texts.setdefault(k, t)) for k, t in transcripts(rng))
        results, taken, elapsed = asyncio.run(run_for(config, stream, args.seconds, limiter))
        counters = server.counters
        answered = {r.key for r in results if r.status != "failed"}  # what raw.llm_calls would skip
        before = counters.requests
        again = [CallRequest(k, texts[k]) for k in taken if k not in answered]
        asyncio.run(classify_many(again, config, lambda r: None))
        rerun_requests = counters.requests - before
        window_minutes = elapsed / args.period
        return {
            "seconds_asked": args.seconds,
            "elapsed_s": round(elapsed, 2),
            "period_s": args.period,
            "tpm": args.tpm,
            "rpm": args.rpm,
            "max_concurrency": args.concurrency,
            "burst_s": args.burst or args.period,
            "server_latency_s": args.latency,
            "requests_taken": len(taken),
            "answered_ok": sum(r.status == "ok" for r in results),
            "invalid": sum(r.status == "invalid" for r in results),
            "failed": sum(r.status == "failed" for r in results),
            "lost": len(set(taken) - {r.key for r in results if r.status == "ok"}),
            "http_requests": before,
            "429_received": sum(r.rate_limited for r in results),
            "429_sent_by_server": counters.rate_limited_sent,
            "tokens_accepted": counters.tokens_accepted,
            "tpm_share": round(counters.tokens_accepted / (args.tpm * window_minutes), 4),
            "rpm_share": round(counters.ok / (args.rpm * window_minutes), 4),
            "rerun_requests": rerun_requests,
        }


def report(result: dict[str, Any], out: Path) -> None:
    rows = [
        ("run", f"{result['elapsed_s']} s (fed {result['seconds_asked']} s, window {result['period_s']} s)"),
        ("budget", f"{result['tpm']} tokens, {result['rpm']} requests / window, burst {result['burst_s']} s"),
        ("requests taken / answered ok", f"{result['requests_taken']} / {result['answered_ok']}"),
        ("TPM budget used", f"{result['tpm_share']:.1%}  (target >= 95%)"),
        ("RPM budget used", f"{result['rpm_share']:.1%}"),
        ("requests lost", f"{result['lost']}  (target 0)"),
        ("429s received", str(result["429_received"])),
        ("requests on re-run", f"{result['rerun_requests']}  (target 0)"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"measured_at": datetime.now(UTC).isoformat(), "result": result}
    out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\nwritten: {out}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="how long to keep feeding requests")
    parser.add_argument("--tpm", type=int, default=100_000, help="tokens per window (server and budget)")
    parser.add_argument("--rpm", type=int, default=600, help="requests per window (server and budget)")
    parser.add_argument("--period", type=float, default=60.0, help="window in seconds (60: per minute)")
    parser.add_argument("--burst", type=float, default=None, help="bucket capacity, s (default: period)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--latency", type=float, default=0.2, help="the fake model's answer time, seconds")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "llm_budget.json")
    args = parser.parse_args()
    report(measure(args), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
