"""Redaction stage: every transcript not yet redacted by this redactor version.

A recording's channels (agent, customer, the merged dialogue, or the mono mix) are redacted together so
they share tokens, and a recording transcribed again (new ASR model) keeps the tokens it already has in
the vault. Redacted text goes to ``raw.redacted_transcripts``; the values go to the vault, encrypted.
"""

from __future__ import annotations

import time
from collections import defaultdict
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import psycopg

from flows.config import Settings
from flows.model_cache import borrowed
from flows.runtime import Shard
from flows.stage import Advance, Stage, StageResult, Work, finish, run_stage, stage_task
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


@dataclass(frozen=True)
class Recording:
    """A recording's transcripts of one ASR model and chunking, redacted together."""

    sha256: str
    model_id: str
    chunking_id: str
    channels: list[tuple[str, str | None, str]]  # (channel, call id, text), agent first


def _pending(conn: psycopg.Connection, version: str, shard: Shard) -> list[Recording]:
    """Transcripts of the shard without a redaction of this version, as recordings: grouped by (sha256,
    asr model, chunking), agent first."""
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
    return [
        Recording(*key, sorted(channels, key=lambda c: _CHANNEL_ORDER.get(c[0], 9)))
        for key, channels in groups.items()
    ]


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


class Redaction(Stage[Recording]):
    label = "redaction"
    version_key = "redactor"
    zero_counts = {"entities": 0}

    def __init__(self, database_url: str, settings: Settings) -> None:
        self.database_url, self.settings = database_url, settings

    def pending(self, conn: psycopg.Connection, shard: Shard) -> Work[Recording]:
        from inference.redaction import REDACTOR_VERSION

        items = _pending(conn, REDACTOR_VERSION, shard)
        (done_before,) = conn.execute(
            "select count(distinct sha256) from raw.redacted_transcripts "
            f"where redactor_version = %s and {shard.sql('sha256')}",
            [REDACTOR_VERSION],
        ).fetchone()
        return Work(items, done_before, REDACTOR_VERSION)

    def process(
        self, work: Work[Recording], shard: Shard, meter: StageMeter, advance: Advance
    ) -> StageResult:
        from inference.redaction import REDACTOR_VERSION

        vault = open_vault(self.database_url, self.settings)
        total_entities = 0
        with redactor_for(self.settings) as redactor, psycopg.connect(self.database_url) as conn:
            for recording in work.items:
                started = time.perf_counter()
                sha = recording.sha256
                known = {value: token for token, value in vault.mapping(conn, sha).items()}
                redactions = redactor.redact_all([text for _, _, text in recording.channels], known=known)
                new_entities: dict[str, tuple[str, str]] = {}  # a token's first value, as first heard
                for entity in (e for r in redactions for e in r.entities):
                    new_entities.setdefault(entity.token, (entity.entity_type, entity.value))
                rows = [
                    (
                        sha,
                        recording.model_id,
                        recording.chunking_id,
                        channel,
                        REDACTOR_VERSION,
                        call_id,
                        r.text,
                        len(r.entities),
                        sorted({e.entity_type for e in r.entities}),
                    )
                    for (channel, call_id, _), r in zip(recording.channels, redactions, strict=True)
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
            len(work.items),
            total_entities,
            work.done_before,
            processed=len(work.items),
            skipped=work.done_before,
            model_id=REDACTOR_VERSION,
            counts={"entities": total_entities},
            redactor=REDACTOR_VERSION,
            entities=total_entities,
        )


@stage_task("redact-transcripts")
def redact_transcripts(database_url: str, settings: Settings, shard: Shard) -> StageResult:
    return run_stage(Redaction(database_url, settings), database_url, shard)
