-- The k nearest recordings of one vector (cosine distance, same embedding model, itself left out), through
-- the HNSW index: the look-up dbt's int_similar_transcripts makes for each recording it looks at.
-- Why a function: PostgreSQL runs a lateral k-NN subquery (`cross join lateral (... order by embedding <=>
-- probe.embedding limit k)`) in one process only — a plan node with lateral references is not parallel-safe,
-- and a SQL function used in FROM is inlined back into that subquery. Called in the select list of a scan of
-- the recordings to look at, this parallel-safe function runs in every parallel worker, each looking up its
-- share of the recordings. On 79,838 embedded recordings (benchmarks/scale.py --calls 100000, 2 cores), the
-- look-ups of 20,079 of them: 19.6 s as a lateral subquery, 11.1 s through this function, the same rows.
-- Its cost (about a millisecond a call, 10,000 × cpu_operator_cost = 25) tells the planner that a scan
-- calling it is worth the workers from a few hundred recordings on.
create or replace function raw.nearest_embeddings(
    probe_embedding vector,
    probe_model text,
    probe_sha256 text,
    neighbours integer
)
returns table (similar_sha256 text, distance double precision, similar_embedded_at timestamptz)
language sql stable parallel safe rows 5 cost 10000 as $$
    select candidate.sha256, candidate.embedding <=> probe_embedding, candidate.created_at
    from raw.transcript_embeddings as candidate
    where candidate.model = probe_model
        and candidate.sha256 <> probe_sha256
    order by candidate.embedding <=> probe_embedding
    limit neighbours
$$;

grant execute on function raw.nearest_embeddings(vector, text, text, integer) to callaudit_pipeline;
