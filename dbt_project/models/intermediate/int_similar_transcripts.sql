-- Each recording's similar_neighbours nearest recordings by the cosine distance of their redacted
-- transcripts' embeddings (same embedding model), found in Postgres through the HNSW index (a lateral k-NN
-- join), with the similarity; similar_calls keeps the pairs at or above similarity_threshold, both ways.
--
-- Incremental: a run looks for the neighbours of the recordings embedded since the last run (new, or their
-- redacted text changed) and of the recordings that had one of those among their neighbours (whose
-- similarity changed), and replaces those recordings' rows; the others keep theirs. A pair is therefore
-- found when one of the two was among the other's nearest when that one was last looked at (a full build
-- looks at every recording now; they differ only inside a group of more than similar_neighbours
-- recordings all closer to each other). Each row keeps when it was looked up (the dbt run's start), which
-- tells similar_calls whose pairs to build again. A change of similar_neighbours needs
-- `dbt build --full-refresh --select int_similar_transcripts`.

{{ config(
    materialized='incremental',
    unique_key=['audio_sha256', 'embedding_model'],
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
) }}

{#- A warehouse built before this model was incremental holds it without the look-up times: look at every
    recording once, as a full build does (every row is replaced, and the columns are added). -#}
{%- set looked_up = execute and is_incremental()
    and 'probe_embedded_at' in (adapter.get_columns_in_relation(this) | map(attribute='name') | list) %}

with

embeddings as (

    select * from {{ ref('stg_raw__transcript_embeddings') }}

),

{% if looked_up %}

changed as (

    -- embedded since the newest vector this table has looked at
    select
        audio_sha256,
        embedding_model

    from embeddings
    where embedded_at > (
        select coalesce(max(greatest(probe_embedded_at, similar_embedded_at)), '-infinity'::timestamptz)
        from {{ this }}
    )

),

probes as (

    -- the changed recordings and those that had one of them among their neighbours
    select embeddings.*

    from embeddings
    where (embeddings.audio_sha256, embeddings.embedding_model) in (
        select audio_sha256, embedding_model from changed
        union
        select previous.audio_sha256, previous.embedding_model
        from {{ this }} as previous
        inner join changed
            on previous.similar_audio_sha256 = changed.audio_sha256
            and previous.embedding_model = changed.embedding_model
    )

),

{% else %}

probes as (

    select * from embeddings

),

{% endif %}

neighbours as (

    select
        probe.audio_sha256,
        nearest.audio_sha256 as similar_audio_sha256,
        probe.embedding_model,
        1 - (probe.embedding <=> nearest.embedding) as similarity,
        probe.embedded_at as probe_embedded_at,
        nearest.embedded_at as similar_embedded_at

    from probes as probe
    cross join lateral (
        select
            candidate.sha256 as audio_sha256,
            candidate.embedding,
            candidate.created_at as embedded_at
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
        round(similarity::numeric, 4)::double precision as similarity,
        probe_embedded_at,
        similar_embedded_at,
        '{{ run_started_at }}'::timestamptz as looked_up_at

    from neighbours

)

select * from final
