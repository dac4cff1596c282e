-- Each recording's similar_neighbours nearest recordings by the cosine distance of their redacted
-- transcripts' embeddings (same embedding model), found in Postgres through the HNSW index
-- (raw.nearest_embeddings, sql/016_nearest_embeddings.sql), with the similarity; similar_calls keeps the
-- pairs at or above similarity_threshold, both ways.
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
{%- set looked_up = is_incremental_with('probe_embedded_at') %}
{#- The newest vector this table has looked at, read before the build and written in as a constant: a plan
    that reads it from a subquery there runs in one process only (measured on a 100k-call warehouse), and the
    look-ups are worth the parallel workers. For the same reason the steps read twice are not materialized
    (PostgreSQL's scan of a materialized step is not parallel-safe). -#}
{%- if looked_up %}
    {%- set newest_looked_at = run_query(
        "select coalesce(max(greatest(probe_embedded_at, similar_embedded_at)), '-infinity'::timestamptz)::text
        from " ~ this).columns[0].values()[0] %}
{%- endif %}

with

embeddings as not materialized (

    select * from {{ ref('stg_raw__transcript_embeddings') }}

),

{% if looked_up %}

changed as not materialized (

    -- embedded since the newest vector this table has looked at
    select
        audio_sha256,
        embedding_model

    from embeddings
    where embedded_at > '{{ newest_looked_at }}'::timestamptz

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

probe_nearest as (

    -- each probe's nearest (raw.nearest_embeddings, the HNSW look-up: called in the select list so that
    -- PostgreSQL's parallel workers each look up a share of the probes; a lateral subquery runs in one)
    select
        audio_sha256,
        embedding_model,
        embedded_at,
        raw.nearest_embeddings(embedding, embedding_model, audio_sha256, {{ var('similar_neighbours') }})
            as nearest

    from probes

),

neighbours as (

    select
        audio_sha256,
        (nearest).similar_sha256 as similar_audio_sha256,
        embedding_model,
        1 - (nearest).distance as similarity,
        embedded_at as probe_embedded_at,
        (nearest).similar_embedded_at

    from probe_nearest

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
