-- "Calls like this one": for each call with a transcript, the calls whose redacted transcripts are
-- closest in meaning (cosine similarity of their embeddings ≥ the configured threshold), with what an
-- analyst needs to judge the pair. One row per (call, similar call); both directions appear.
--
-- Incremental: the pre-hook (macros/similar_calls_affected.sql) finds the recordings whose pairs may have
-- changed since the last run — looked up again by int_similar_transcripts, or with a call that is new, gone
-- or changed — and deletes every row that involves one of them (either side); a run then inserts the
-- current pairs that involve one of them, and no other. A change of similarity_threshold needs
-- `dbt build --full-refresh --select similar_calls`.

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ similar_calls_affected() }}",
) }}

{%- set has_keys = similar_calls_is_keyed() %}

with

nearest as (

    select * from {{ ref('int_similar_transcripts') }}
    {%- if has_keys %}
    -- the rows involving an affected recording, from either side: two semi-joins (an `or` of two `in`
    -- lists is tested row by row, and without a hash once the list outgrows work_mem: see the pre-hook)
    where audio_sha256 in (select audio_sha256 from similar_calls_affected)
    union
    select * from {{ ref('int_similar_transcripts') }}
    where similar_audio_sha256 in (select audio_sha256 from similar_calls_affected)
    {%- endif %}

),

similar_pairs as (

    -- the pairs at or above the threshold, found from either side, both ways
    select distinct on (audio_sha256, similar_audio_sha256, embedding_model)
        audio_sha256,
        similar_audio_sha256,
        embedding_model,
        similarity

    from (
        select audio_sha256, similar_audio_sha256, embedding_model, similarity
        from nearest
        union all
        select similar_audio_sha256, audio_sha256, embedding_model, similarity
        from nearest
    ) as both_ways
    where similarity >= {{ var('similarity_threshold') }}
    order by audio_sha256, similar_audio_sha256, embedding_model, similarity desc

),

calls_with_audio as (

    select * from {{ ref('int_recorded_calls') }}

),

final as (

    select
        probe.call_id || '|' || other.call_id as pair_key,
        probe.call_id,
        other.call_id as similar_call_id,
        similar_pairs.similarity,
        probe.audio_sha256 = other.audio_sha256 as is_same_file,
        probe.client_number = other.client_number as is_same_client,
        probe.branch,
        other.branch as similar_branch,
        probe.started_at,
        other.started_at as similar_started_at,
        similar_pairs.embedding_model,
        probe.audio_sha256,
        other.audio_sha256 as similar_audio_sha256,
        probe.call_loaded_at,
        '{{ run_started_at }}'::timestamptz as built_at

    from similar_pairs
    inner join calls_with_audio as probe
        on similar_pairs.audio_sha256 = probe.audio_sha256
    inner join calls_with_audio as other
        on similar_pairs.similar_audio_sha256 = other.audio_sha256
    where probe.call_id <> other.call_id

)

select * from final
