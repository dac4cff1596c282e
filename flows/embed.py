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
from flows.progress import progress_bar
from flows.runtime import GPU_LIMIT, Shard, limited
from flows.stage import StageResult, finish, stage_task
from flows.telemetry import StageMeter

if TYPE_CHECKING:
    from inference.embeddings import Embedder

EMBEDDING_COLUMNS = ("sha256", "model", "text_hash", "call_id", "dimension", "embedding")
TABLE_DIMENSION = 384  # raw.transcript_embeddings.embedding is vector(384) (sql/007)


@stage_task("embed-transcripts")
def embed_transcripts(database_url: str, settings: Settings, shard: Shard) -> StageResult:
    """Embed the shard's current redacted whole-call transcripts (raw.current_redacted_transcripts);
    ``counts["texts_embedded"]``: the distinct texts encoded (identical texts share one vector)."""
    from inference.embeddings import Embedder, EmbeddingConfig, model_id_for, text_hash

    meter = StageMeter("embeddings")
    with psycopg.connect(database_url) as conn:
        latest = conn.execute(
            f"""select r.sha256, r.call_id, r.text
               from raw.current_redacted_transcripts r
               where length(trim(r.text)) > 0 and {shard.sql("r.sha256")}
               order by r.sha256"""
        ).fetchall()
        stored = dict(
            conn.execute(
                "select sha256 || '|' || model, text_hash from raw.transcript_embeddings "
                f"where {shard.sql('sha256')}"
            ).fetchall()
        )
    if not latest:
        return finish(meter, "embeddings: no redacted transcript to embed", counts={"texts_embedded": 0})
    config = EmbeddingConfig(model=settings.embedding_model, device=settings.embedding_device)
    known_id = model_id_for(config)  # from the model's files: a re-run with nothing new loads no model
    if known_id is not None and all(
        stored.get(f"{sha}|{known_id}") == text_hash(text) for sha, _, text in latest
    ):
        return _nothing_new(meter, known_id, len(latest))
    with borrowed(("embedder", config), lambda: Embedder(config)) as embedder:
        return _embed_new(embedder, database_url, latest, stored, shard, meter)


def _embed_new(
    embedder: Embedder,
    database_url: str,
    latest: list[tuple],
    stored: dict[str, str],
    shard: Shard,
    meter: StageMeter,
) -> StageResult:
    """Embed the latest redacted texts whose stored vector is missing or of another text or model."""
    from inference.embeddings import text_hash

    if embedder.dimension != TABLE_DIMENSION:
        raise ValueError(
            f"embedding model {embedder.model_id} gives {embedder.dimension} dimensions; "
            f"raw.transcript_embeddings holds vector({TABLE_DIMENSION}): add a migration for the new size"
        )
    todo = [
        (sha, call_id, text, text_hash(text))
        for sha, call_id, text in latest
        if stored.get(f"{sha}|{embedder.model_id}") != text_hash(text)
    ]
    if not todo:
        return _nothing_new(meter, embedder.model_id, len(latest))
    distinct = list(dict.fromkeys(h for *_, h in todo))
    text_of = {h: text for _, _, text, h in todo}
    started = time.perf_counter()
    with (
        limited(GPU_LIMIT) if embedder.device == "cuda" else nullcontext(),
        progress_bar(f"embeddings {shard}", total=len(distinct)) as advance,
    ):
        seen = [0]

        def progress(done: int, total: int) -> None:  # windows encoded so far, of all windows
            step = round(done * len(distinct) / max(total, 1)) - seen[0]
            seen[0] += step
            advance(step)

        vectors = embedder.embed([text_of[h] for h in distinct], progress=progress)
    meter.observe(time.perf_counter() - started, len(distinct))  # one batched call: its time per text
    vector_of = dict(zip(distinct, vectors, strict=True))
    with psycopg.connect(database_url) as conn:
        register_vector(conn)
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany(
                f"insert into raw.transcript_embeddings ({', '.join(EMBEDDING_COLUMNS)}) "
                "values (%s, %s, %s, %s, %s, %s) on conflict (sha256, model) do update set "
                "text_hash = excluded.text_hash, call_id = excluded.call_id, embedding = excluded.embedding, "
                "created_at = now()",
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
        len(latest) - len(todo),
        processed=len(todo),
        skipped=len(latest) - len(todo),
        model_id=embedder.model_id,
        counts={"texts_embedded": len(distinct)},
        model=embedder.model_id,
        distinct_texts=len(distinct),
    )


def _nothing_new(meter: StageMeter, model_id: str, embedded: int) -> StageResult:
    return finish(
        meter,
        "embeddings (%s): nothing new, %d recordings embedded",
        model_id,
        embedded,
        skipped=embedded,
        model_id=model_id,
        counts={"texts_embedded": 0},
        model=model_id,
    )
