-- Pairs of recordings whose redacted transcripts are close in meaning: for each recording its k nearest
-- neighbours by cosine distance, found in Postgres through the HNSW index (a lateral k-NN join), kept
-- when the similarity reaches the threshold. Both directions of a pair appear.

{{ config(materialized='table') }}

with

embeddings as (

    select * from {{ ref('stg_raw__transcript_embeddings') }}

),

neighbours as (

    select
        probe.audio_sha256,
        nearest.audio_sha256 as similar_audio_sha256,
        probe.embedding_model,
        1 - (probe.embedding <=> nearest.embedding) as similarity

    from embeddings as probe
    cross join lateral (
        select candidate.sha256 as audio_sha256, candidate.embedding
        from {{ source('raw', 'transcript_embeddings') }} as candidate
        where candidate.model = probe.embedding_model
            and candidate.sha256 <> probe.audio_sha256
        order by candidate.embedding <=> probe.embedding
        limit {{ var('similar_neighbours') }}
    ) as nearest

),

final as (

    select
        audio_sha256,
        similar_audio_sha256,
        embedding_model,
        round(similarity::numeric, 4)::double precision as similarity

    from neighbours
    where similarity >= {{ var('similarity_threshold') }}

)

select * from final
