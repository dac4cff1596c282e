"""Classification stage: each recording's redacted transcript, asked once of the configured LLM route.

Every request is stored in ``raw.llm_calls`` under (hash of the redacted messages, route, prompt version;
the offline route's name carries its classifier file's digest: :func:`stored_as`)
before anything else happens to its answer, so a re-run or a resumed run asks nothing already answered
(answers that failed outright are asked again). Each answer is audited against its redacted input and the
recording's vault tokens; an answer that is invalid or invented something is stored untrusted, which the
verdict treats as "needs review", never as evidence. The probability the offline classifier gives its call
type is stored with it (``call_type_confidence``); the verdict compares it with the calibrated
``classification_min_confidence``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import psycopg
from prefect import get_run_logger
from psycopg.types.json import Jsonb

from flows.config import Settings
from flows.runtime import LLM_LIMIT, Shard, current_run_id, limited
from flows.stage import Advance, Stage, StageResult, Work, finish, run_stage, stage_task
from flows.telemetry import StageMeter

if TYPE_CHECKING:
    from inference.llm import LlmConfig

COUNTS = ("failed", "untrusted", "tokens", "cost_usd", "requests", "truncated", "resent")
LLM_CALL_COLUMNS = (
    "request_key", "model", "prompt_version", "sha256", "call_id", "answered_by", "status", "raw_response",
    "parsed", "error", "tokens_in", "tokens_out", "latency_s", "cost_usd", "attempts", "rate_limited",
    "transcript_chars", "transcript_truncated",
)  # fmt: skip
CLASSIFICATION_COLUMNS = (
    "sha256", "model", "prompt_version", "request_key", "call_id", "call_type", "behavior", "sentiment",
    "summary", "action_items", "is_trusted", "call_type_confidence",
)  # fmt: skip


@dataclass(frozen=True)
class Pending:
    sha256: str
    call_id: str | None
    text: str  # what the request carries: the redacted transcript, cut to llm_max_transcript_chars
    request_key: str
    tokens: frozenset[str]
    transcript_chars: int = 0  # the whole redacted transcript's length
    truncated: bool = False


def request_key(messages: list[dict[str, str]]) -> str:
    """The identity of a request: the hash of exactly the (redacted) messages sent."""
    return hashlib.sha256(json.dumps(messages, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _latest_redacted(conn: psycopg.Connection) -> list[tuple]:
    """Per recording, the current redacted whole-call transcript (raw.current_redacted_transcripts), with
    its vault tokens."""
    return conn.execute(
        """select r.sha256, r.call_id, r.text,
                  (select coalesce(array_agg(v.token), '{}')
                   from vault.pii_tokens v where v.sha256 = r.sha256)
           from raw.current_redacted_transcripts r
           where length(trim(r.text)) > 0
           order by r.sha256"""
    ).fetchall()


def _answered(conn: psycopg.Connection, model: str, prompt_version: str) -> set[str]:
    rows = conn.execute(
        "select request_key from raw.llm_calls "
        "where model = %s and prompt_version = %s and status <> 'failed'",
        [model, prompt_version],
    ).fetchall()
    return {r[0] for r in rows}


def _store(conn: psycopg.Connection, items: list[Pending], model: str, result, violations: list) -> bool:
    """Write one answer (its call, its audit findings, and the classification of every recording whose
    redacted transcript was this request) in one transaction."""
    from inference.llm_schema import PROMPT_VERSION

    first = items[0]
    parsed = result.parsed.model_dump() if result.parsed is not None else None
    trusted = result.status == "ok" and parsed is not None and not violations
    call_row = (
        first.request_key, model, PROMPT_VERSION, first.sha256, first.call_id, result.model, result.status,
        result.raw_response, Jsonb(parsed) if parsed is not None else None, result.error, result.tokens_in,
        result.tokens_out, result.latency_s, result.cost_usd, result.attempts, result.rate_limited,
        first.transcript_chars, first.truncated,
    )  # fmt: skip
    with conn.transaction():
        conn.execute(
            f"insert into raw.llm_calls ({', '.join(LLM_CALL_COLUMNS)}) "
            f"values ({', '.join(['%s'] * len(LLM_CALL_COLUMNS))}) "
            "on conflict (request_key, model, prompt_version) do update set "
            + ", ".join(f"{c} = excluded.{c}" for c in LLM_CALL_COLUMNS[3:])
            + ", created_at = now()",
            call_row,
        )
        conn.execute(
            "update raw.llm_requests set answered_at = now() "
            "where request_key = %s and model = %s and prompt_version = %s",
            [first.request_key, model, PROMPT_VERSION],
        )
        conn.execute(
            "delete from raw.llm_audit where request_key = %s and model = %s and prompt_version = %s",
            [first.request_key, model, PROMPT_VERSION],
        )
        for v in violations:
            conn.execute(
                "insert into raw.llm_audit (request_key, model, prompt_version, kind, field, value) "
                "values (%s, %s, %s, %s, %s, %s)",
                [first.request_key, model, PROMPT_VERSION, v.kind, v.field, v.value],
            )
        if result.status != "failed":
            for item in items:
                _reuse(conn, item, model)
    return trusted


def _record_sent(conn: psycopg.Connection, item: Pending, model: str, run_id: str | None) -> bool:
    """Write that a request is about to be sent, before it is (committed at once). Returns whether it had
    been sent before and never answered: a run died with it in flight, and asking again may pay twice."""
    from inference.llm_schema import PROMPT_VERSION

    key = [item.request_key, model, PROMPT_VERSION]
    with conn.transaction():
        before = conn.execute(
            "select answered_at is null from raw.llm_requests "
            "where request_key = %s and model = %s and prompt_version = %s for update",
            key,
        ).fetchone()
        in_flight = before is not None and before[0]
        conn.execute(
            """insert into raw.llm_requests as r
                 (request_key, model, prompt_version, sha256, call_id, run_id)
               values (%s, %s, %s, %s, %s, %s)
               on conflict (request_key, model, prompt_version) do update set
                 sends = r.sends + 1, unanswered_resends = r.unanswered_resends + %s,
                 run_id = excluded.run_id, last_sent_at = now(), answered_at = null""",
            [*key, item.sha256, item.call_id, run_id, int(in_flight)],
        )
    return in_flight


def _reuse(conn: psycopg.Connection, item: Pending, model: str) -> None:
    """The classification of a recording from the stored answer to its request (no LLM call)."""
    from inference.llm_schema import PROMPT_VERSION

    conn.execute(
        f"""insert into raw.classifications ({", ".join(CLASSIFICATION_COLUMNS)})
            select %s, c.model, c.prompt_version, c.request_key, %s,
                   (c.parsed ->> 'call_type')::smallint, (c.parsed ->> 'behavior')::smallint,
                   c.parsed ->> 'sentiment', c.parsed ->> 'summary', c.parsed -> 'action_items',
                   c.status = 'ok' and c.parsed is not null and not exists (
                       select 1 from raw.llm_audit a where a.request_key = c.request_key
                         and a.model = c.model and a.prompt_version = c.prompt_version),
                   (c.parsed ->> 'call_type_confidence')::real
            from raw.llm_calls c
            where c.request_key = %s and c.model = %s and c.prompt_version = %s and c.status <> 'failed'
            on conflict (sha256, model, prompt_version) do update set
              request_key = excluded.request_key, call_id = excluded.call_id,
              call_type = excluded.call_type, behavior = excluded.behavior, sentiment = excluded.sentiment,
              summary = excluded.summary, action_items = excluded.action_items,
              is_trusted = excluded.is_trusted, call_type_confidence = excluded.call_type_confidence,
              created_at = now()""",
        [item.sha256, item.call_id, item.request_key, model, PROMPT_VERSION],
    )


def stored_as(config: LlmConfig, alias: str) -> str:
    """The name a route's answers are stored under (``raw.llm_calls``, ``raw.classifications``): its alias,
    and when the route or one of its fallbacks answers from the bundled classifier, the digest of the
    classifier's file — a retrained classifier classifies every recording again, as a new speech model
    transcribes them again."""
    from inference.hashing import file_sha256
    from inference.local_llm import PROVIDER, resolve_model_path

    if any(route.litellm_params.model.startswith(f"{PROVIDER}/") for route in config.chain(alias)):
        return f"{alias}@{file_sha256(str(resolve_model_path()))[:12]}"
    return alias


class Classification(Stage[list[Pending]]):
    """Items: the shard's requests not yet answered, each the recordings whose redacted words it carries
    (identical words are asked once). Selecting them classifies, from the stored answers and at no cost,
    the recordings whose words were already answered."""

    label = "classification"
    zero_counts = dict.fromkeys(COUNTS, 0)

    def __init__(self, database_url: str, settings: Settings) -> None:
        from inference.llm import load_llm_config

        self.database_url, self.settings = database_url, settings
        self.config = load_llm_config(settings.llm_config)
        self.model = stored_as(self.config, settings.llm_model)
        self.reused = 0

    def pending(self, conn: psycopg.Connection, shard: Shard) -> Work[list[Pending]]:
        from inference.llm_schema import PROMPT_VERSION, build_messages, fit_transcript

        answered = _answered(conn, self.model, PROMPT_VERSION)
        classified = {  # (recording, the request its classification came from)
            (r[0], r[1])
            for r in conn.execute(
                "select sha256, request_key from raw.classifications "
                "where model = %s and prompt_version = %s",
                [self.model, PROMPT_VERSION],
            )
        }
        todo: dict[str, list[Pending]] = {}
        known = 0
        for sha, call_id, text, tokens in _latest_redacted(conn):
            sent, cut = fit_transcript(text, self.settings.llm_max_transcript_chars)
            key = request_key(build_messages(sent))
            item = Pending(sha, call_id, sent, key, frozenset(tokens), len(text.strip()), cut)
            if not shard.holds(item.request_key):
                continue
            if item.request_key not in answered:
                todo.setdefault(item.request_key, []).append(item)
            elif (sha, item.request_key) in classified:
                known += 1
            else:  # words already answered (another recording's, or this one's new transcript): no cost
                with conn.transaction():
                    _reuse(conn, item, self.model)
                self.reused += 1
        items = list(todo.values())
        return Work(items, known, self.model, sum(len(i) for i in items))

    def nothing_new(self, work: Work[list[Pending]], meter: StageMeter) -> StageResult:
        from inference.llm_schema import PROMPT_VERSION

        return finish(
            meter,
            "classification (%s, %s): nothing to ask, %d already classified, %d from stored answers",
            self.model,
            PROMPT_VERSION,
            work.done_before,
            self.reused,
            processed=self.reused,
            skipped=work.done_before,
            model_id=self.model,
            counts=self.zero_counts,
            model=self.model,
        )

    def process(
        self, work: Work[list[Pending]], shard: Shard, meter: StageMeter, advance: Advance
    ) -> StageResult:
        from inference.llm import CallRequest, classify_many
        from inference.llm_audit import audit

        settings, model = self.settings, self.model
        todo = {items[0].request_key: items for items in work.items}
        counts = dict.fromkeys(COUNTS, 0)
        run_id = current_run_id()
        with psycopg.connect(self.database_url) as conn:

            def on_result(result) -> None:
                items = todo[result.key]
                first = items[0]
                violations = (
                    audit(result.parsed, first.text, set(first.tokens)) if result.parsed is not None else []
                )
                trusted = _store(conn, items, model, result, violations)
                # as the verdict reads it: a call type below the calibrated probability is untrusted too
                confidence = result.parsed.call_type_confidence if result.parsed is not None else None
                if confidence is not None and confidence < settings.classification_min_confidence:
                    trusted = False
                failed = result.status == "failed"
                counts["failed"] += len(items) if failed else 0
                counts["untrusted"] += len(items) if not failed and not trusted else 0
                counts["tokens"] += result.tokens_in + result.tokens_out
                counts["cost_usd"] += result.cost_usd
                if failed:
                    meter.error(len(items))
                else:
                    meter.observe(result.latency_s * len(items), len(items))
                advance(len(items))

            def requests():  # pulled by a worker just before it sends the request: recorded first
                for key, items in todo.items():
                    counts["resent"] += _record_sent(conn, items[0], model, run_id)
                    yield CallRequest(key=key, transcript=items[0].text)

            with limited(LLM_LIMIT):  # one slot per running classification stage, across runs and workers
                asyncio.run(classify_many(requests(), self.config, on_result, model=settings.llm_model))
        return self._close(todo, counts, work.done_before, meter)

    def _close(
        self, todo: dict[str, list[Pending]], counts: dict[str, float], known: int, meter: StageMeter
    ) -> StageResult:
        from inference.llm_schema import PROMPT_VERSION

        logger = get_run_logger()
        truncated = sum(1 for items in todo.values() if items[0].truncated)
        if truncated:
            logger.warning(
                "classification: %d request(s) carried a transcript cut to %d characters "
                "(raw.llm_calls.transcript_truncated)",
                truncated,
                self.settings.llm_max_transcript_chars,
            )
        if counts["resent"]:
            logger.warning(
                "classification: %d request(s) sent again: a run died while they were in flight "
                "(raw.llm_requests.unanswered_resends)",
                counts["resent"],
            )
        recordings = sum(len(items) for items in todo.values())
        return finish(
            meter,
            "classification (%s, %s): %d requests for %d recordings, %d already classified, %d from stored "
            "answers, %d failed (asked again next run), %d untrusted, %d tokens, $%.4f",
            self.model,
            PROMPT_VERSION,
            len(todo),
            recordings,
            known,
            self.reused,
            counts["failed"],
            counts["untrusted"],
            counts["tokens"],
            counts["cost_usd"],
            processed=recordings + self.reused - counts["failed"],
            skipped=known,
            model_id=self.model,
            counts={
                **counts,
                "cost_usd": round(counts["cost_usd"], 6),
                "requests": len(todo),
                "truncated": truncated,
            },
            model=self.model,
            requests=len(todo),
            tokens=counts["tokens"],
        )


@stage_task("classify-calls")
def classify_calls(database_url: str, settings: Settings, shard: Shard) -> StageResult:
    """Classify the shard's pending recordings; shards split the work by request (identical words stay in
    one shard: asked once). The result's ``counts``: ``failed`` (asked again next run), ``untrusted``,
    ``tokens``, ``cost_usd``, ``requests``, ``truncated`` (requests whose transcript was cut to
    llm_max_transcript_chars), ``resent`` (requests sent again after a run died with them in flight)."""
    return run_stage(Classification(database_url, settings), database_url, shard)
