-- Transcript embeddings (issue 6): one vector per recording and embedding model, of the REDACTED
-- whole-call transcript (raw text never reaches the vector table). 004's table was a placeholder (never
-- written). The HNSW index serves the k-nearest-neighbour join of dbt's int_similar_transcripts.
drop table if exists raw.transcript_embeddings;

create table raw.transcript_embeddings (
    sha256       text        not null,  -- the recording
    model        text        not null,  -- embedding model id (name@digest)
    text_hash    text        not null,  -- sha256 of the normalised redacted text that was embedded
    call_id      text,
    dimension    integer     not null check (dimension = 384),
    embedding    vector(384) not null,
    created_at   timestamptz not null default now(),
    primary key (sha256, model)
);

create index if not exists transcript_embeddings_hnsw
    on raw.transcript_embeddings using hnsw (embedding vector_cosine_ops) with (m = 16, ef_construction = 64);

grant select, insert, update, delete on raw.transcript_embeddings to callaudit_pipeline;
