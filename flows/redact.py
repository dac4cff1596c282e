"""Redaction stage: every transcript not yet redacted by this redactor version.

A recording's channels (agent, customer, the merged dialogue, or the mono mix) are redacted together so
they share tokens, and a recording transcribed again (new ASR model) keeps the tokens it already has in
the vault. Redacted text goes to ``raw.redacted_transcripts``; the values go to the vault, encrypted.
"""

from __future__ import annotations

import time
from collections import defaultdict
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

import psycopg

from flows.config import Settings
from flows.model_cache import borrowed
from flows.progress import progress_bar
from flows.runtime import Shard
from flows.stage import StageResult, finish, stage_task
from flows.telemetry import StageMeter
from warehouse.db import copy_rows
from warehouse.vault import open_vault, store

if TYPE_CHECKING:
    from inference.redaction import Redactor

REDACTED_COLUMNS = (
    "sha256",
    "asr_model_id",
    "chunking_id",
    "channel",
    "redactor_version",
    "call_id",
    "text",
    "entities",
    "entity_types",
)
_CHANNEL_ORDER = {"agent": 0, "customer": 1, "mix": 2, "dialogue": 3}


def _pending(conn: psycopg.Connection, version: str, shard: Shard) -> dict[tuple[str, str, str], list[tuple]]:
    """Transcripts of the shard without a redaction of this version, grouped by (sha256, asr model,
    chunking)."""
    rows = conn.execute(
        f"""select t.sha256, t.model_id, t.chunking_id, t.channel, t.call_id, t.text
           from raw.transcripts t
           where not exists (
               select 1 from raw.redacted_transcripts r
               where r.sha256 = t.sha256 and r.asr_model_id = t.model_id and r.chunking_id = t.chunking_id
                 and r.channel = t.channel and r.redactor_version = %s)
             and {shard.sql("t.sha256")}
           order by t.sha256, t.model_id, t.chunking_id""",
        [version],
    ).fetchall()
    groups: dict[tuple[str, str, str], list[tuple]] = defaultdict(list)
    for sha, model_id, chunking_id, channel, call_id, text in rows:
        groups[(sha, model_id, chunking_id)].append((channel, call_id, text))
    for channels in groups.values():
        channels.sort(key=lambda c: _CHANNEL_ORDER.get(c[0], 9))
    return groups


def redactor_for(settings: Settings) -> AbstractContextManager[Redactor]:
    """The process's Redactor for these settings, lent for a block: built on first use (25–60 s), then
    lent again to the next run of the stage (a second borrower at the same time gets its own)."""
    from inference.redaction import REDACTOR_VERSION, Redactor

    options = {
        "languages": tuple(settings.redact_languages),
        "keep": tuple(settings.redact_keep),
        "country_code": settings.default_country_code,
    }
    return borrowed(("redactor", REDACTOR_VERSION, *options.items()), lambda: Redactor(**options))


@stage_task("redact-transcripts")
def redact_transcripts(database_url: str, settings: Settings, shard: Shard) -> StageResult:
    from inference.redaction import REDACTOR_VERSION

    meter = StageMeter("redaction")
    vault = open_vault(database_url, settings)
    with psycopg.connect(database_url) as conn:
        groups = _pending(conn, REDACTOR_VERSION, shard)
        (done_before,) = conn.execute(
            "select count(distinct sha256) from raw.redacted_transcripts "
            f"where redactor_version = %s and {shard.sql('sha256')}",
            [REDACTOR_VERSION],
        ).fetchone()
    if not groups:
        return finish(
            meter,
            "redaction (%s): nothing new, %d recordings already redacted",
            REDACTOR_VERSION,
            done_before,
            skipped=done_before,
        )
    total_entities = 0
    with (
        redactor_for(settings) as redactor,
        psycopg.connect(database_url) as conn,
        progress_bar(f"redaction {shard}", total=len(groups)) as advance,
    ):
        for (sha, model_id, chunking_id), channels in groups.items():
            started = time.perf_counter()
            known = {value: token for token, value in vault.mapping(conn, sha).items()}
            redactions = redactor.redact_all([text for _, _, text in channels], known=known)
            new_entities: dict[str, tuple[str, str]] = {}  # a token's first value, as it was first heard
            for entity in (e for r in redactions for e in r.entities):
                new_entities.setdefault(entity.token, (entity.entity_type, entity.value))
            rows = [
                (
                    sha,
                    model_id,
                    chunking_id,
                    channel,
                    REDACTOR_VERSION,
                    call_id,
                    r.text,
                    len(r.entities),
                    sorted({e.entity_type for e in r.entities}),
                )
                for (channel, call_id, _), r in zip(channels, redactions, strict=True)
            ]
            total_entities += sum(len(r.entities) for r in redactions)
            with conn.transaction():  # one recording at a time: a crash keeps what was redacted
                store(conn, vault.rows(sha, new_entities))
                copy_rows(conn, "raw.redacted_transcripts", REDACTED_COLUMNS, rows)
            meter.observe(time.perf_counter() - started)
            advance()
    return finish(
        meter,
        "redaction (%s): %d recordings redacted, %d entities replaced, %d already redacted",
        REDACTOR_VERSION,
        len(groups),
        total_entities,
        done_before,
        processed=len(groups),
        skipped=done_before,
        counts={"entities": total_entities},
        redactor=REDACTOR_VERSION,
        entities=total_entities,
    )
