-- "Calls like this one": for each call with a transcript, the calls whose redacted transcripts are
-- closest in meaning (cosine similarity of their embeddings ≥ the configured threshold), with what an
-- analyst needs to judge the pair. One row per (call, similar call); both directions appear.

with

nearest as (

    select * from {{ ref('int_similar_transcripts') }}

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
        similar_pairs.embedding_model

    from similar_pairs
    inner join calls_with_audio as probe
        on similar_pairs.audio_sha256 = probe.audio_sha256
    inner join calls_with_audio as other
        on similar_pairs.similar_audio_sha256 = other.audio_sha256
    where probe.call_id <> other.call_id

)

select * from final
