"""Embedding stage: each recording's redacted whole-call transcript as a vector in pgvector.

Keyed by (recording, embedding model) and the hash of the text embedded: a re-run embeds nothing, a new
transcript (new ASR model, new redactor) or a new embedding model embeds again. Identical texts are
embedded once. Only redacted text is embedded; the dbt models ``int_similar_transcripts`` and
``similar_calls`` compare the vectors in SQL through the HNSW index.
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from typing import TYPE_CHECKING

import psycopg
from pgvector.psycopg import register_vector

from flows.config import Settings
from flows.model_cache import borrowed
from flows.runtime import GPU_LIMIT, Shard, limited
from flows.stage import Advance, Stage, StageResult, Work, finish, run_stage, stage_task
from flows.telemetry import StageMeter

if TYPE_CHECKING:
    from inference.embeddings import Embedder

EMBEDDING_COLUMNS = ("sha256", "model", "text_hash", "call_id", "dimension", "embedding")
TABLE_DIMENSION = 384  # raw.transcript_embeddings.embedding is vector(384) (sql/007)


Text = tuple[str, str | None, str, str]  # (sha256, call id, redacted text, its hash)


class Embedding(Stage[Text]):
    """Items: the shard's current redacted whole-call transcripts (raw.current_redacted_transcripts) whose
    stored vector is missing or of another text or model. The model's id is read from its files where it
    can be (a re-run with nothing new loads no model); otherwise it is known once the model is loaded, and
    :meth:`process` looks again."""

    label = "embeddings"
    zero_counts = {"texts_embedded": 0}

    def __init__(self, database_url: str, settings: Settings) -> None:
        from inference.embeddings import EmbeddingConfig

        self.database_url = database_url
        self.config = EmbeddingConfig(model=settings.embedding_model, device=settings.embedding_device)
        self.stored: dict[str, str] = {}  # "sha256|model" → the hash of the text its vector is of
        self.latest: list[Text] = []

    def pending(self, conn: psycopg.Connection, shard: Shard) -> Work[Text]:
        from inference.embeddings import model_id_for, text_hash

        self.latest = [
            (sha, call_id, text, text_hash(text))
            for sha, call_id, text in conn.execute(
                f"""select r.sha256, r.call_id, r.text
                   from raw.current_redacted_transcripts r
                   where length(trim(r.text)) > 0 and {shard.sql("r.sha256")}
                   order by r.sha256"""
            )
        ]
        self.stored = dict(
            conn.execute(
                "select sha256 || '|' || model, text_hash from raw.transcript_embeddings "
                f"where {shard.sql('sha256')}"
            ).fetchall()
        )
        known_id = model_id_for(self.config)
        todo = self.latest if known_id is None else self._todo(known_id)
        return Work(todo, len(self.latest) - len(todo), known_id, len({h for *_, h in todo}))

    def _todo(self, model_id: str) -> list[Text]:
        return [t for t in self.latest if self.stored.get(f"{t[0]}|{model_id}") != t[3]]

    def process(self, work: Work[Text], shard: Shard, meter: StageMeter, advance: Advance) -> StageResult:
        from inference.embeddings import Embedder

        with borrowed(("embedder", self.config), lambda: Embedder(self.config)) as embedder:
            if embedder.dimension != TABLE_DIMENSION:
                raise ValueError(
                    f"embedding model {embedder.model_id} gives {embedder.dimension} dimensions; "
                    f"raw.transcript_embeddings holds vector({TABLE_DIMENSION}): "
                    "add a migration for the new size"
                )
            todo = self._todo(embedder.model_id)
            if not todo:
                return self.nothing_new(Work([], len(self.latest), embedder.model_id), meter)
            return self._embed(embedder, todo, meter, advance)

    def _embed(
        self, embedder: Embedder, todo: list[Text], meter: StageMeter, advance: Advance
    ) -> StageResult:
        distinct = list(dict.fromkeys(h for *_, h in todo))
        text_of = {h: text for _, _, text, h in todo}
        started = time.perf_counter()
        with limited(GPU_LIMIT) if embedder.device == "cuda" else nullcontext():
            seen = [0]

            def progress(done: int, total: int) -> None:  # windows encoded so far, of all windows
                step = round(done * len(distinct) / max(total, 1)) - seen[0]
                seen[0] += step
                advance(step)

            vectors = embedder.embed([text_of[h] for h in distinct], progress=progress)
        meter.observe(time.perf_counter() - started, len(distinct))  # one batched call: its time per text
        vector_of = dict(zip(distinct, vectors, strict=True))
        with psycopg.connect(self.database_url) as conn:
            register_vector(conn)
            with conn.transaction(), conn.cursor() as cur:
                cur.executemany(
                    f"insert into raw.transcript_embeddings ({', '.join(EMBEDDING_COLUMNS)}) "
                    "values (%s, %s, %s, %s, %s, %s) on conflict (sha256, model) do update set "
                    "text_hash = excluded.text_hash, call_id = excluded.call_id, "
                    "embedding = excluded.embedding, created_at = now()",
                    [
                        (sha, embedder.model_id, h, call_id, embedder.dimension, vector_of[h])
                        for sha, call_id, _, h in todo
                    ],
                )
        meter.items = len(todo)  # recordings embedded (identical texts share one vector)
        return finish(
            meter,
            "embeddings (%s): %d recordings embedded (%d distinct texts), %d already embedded",
            embedder.model_id,
            len(todo),
            len(distinct),
            len(self.latest) - len(todo),
            processed=len(todo),
            skipped=len(self.latest) - len(todo),
            model_id=embedder.model_id,
            counts={"texts_embedded": len(distinct)},
            model=embedder.model_id,
            distinct_texts=len(distinct),
        )


@stage_task("embed-transcripts")
def embed_transcripts(database_url: str, settings: Settings, shard: Shard) -> StageResult:
    """Embed the shard's current redacted whole-call transcripts (raw.current_redacted_transcripts);
    ``counts["texts_embedded"]``: the distinct texts encoded (identical texts share one vector)."""
    return run_stage(Embedding(database_url, settings), database_url, shard)
