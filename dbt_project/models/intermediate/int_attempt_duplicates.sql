-- Calls that reuse another call's conversation: the same file (int_duplicate_recordings), or the same
-- conversation re-encoded — the same audio fingerprint (ring-back count, speech onset within 0.1 s,
-- duration within 0.5 s) AND transcripts similar in meaning (cosine of their embeddings ≥
-- duplicate_similarity). Neither alone is enough: scripted phrases make different calls' transcripts
-- close, and a re-encoding makes the ASR hear the same words a little differently. The fingerprint join
-- comes first (an equality on ring count), so every candidate pair is compared, not only k neighbours.
-- The earliest call is the original; every later one is a duplicate, whichever order it was claimed for.

with

call_fingerprints as (

    select * from {{ ref('int_recorded_calls') }}

),

identical as (

    select * from {{ ref('int_duplicate_recordings') }}

),

embeddings as (

    select * from {{ ref('stg_raw__transcript_embeddings') }}

),

reencoded_pairs as (

    select
        later.call_id,
        earlier.call_id as original_call_id,
        earlier.started_at as original_started_at,
        1 - (later_embedding.embedding <=> earlier_embedding.embedding) as similarity

    from call_fingerprints as later
    inner join call_fingerprints as earlier
        on later.ring_bursts = earlier.ring_bursts
        and (earlier.started_at, earlier.call_id) < (later.started_at, later.call_id)
        and later.audio_sha256 <> earlier.audio_sha256
        and abs(later.speech_onset_s - earlier.speech_onset_s) <= 0.1
        and abs(later.audio_duration_s - earlier.audio_duration_s) <= 0.5
    inner join embeddings as later_embedding
        on later.audio_sha256 = later_embedding.audio_sha256
    inner join embeddings as earlier_embedding
        on earlier.audio_sha256 = earlier_embedding.audio_sha256
        and later_embedding.embedding_model = earlier_embedding.embedding_model
    where 1 - (later_embedding.embedding <=> earlier_embedding.embedding) >= {{ var('duplicate_similarity') }}

),

reencoded as (

    select distinct on (reencoded_pairs.call_id)
        reencoded_pairs.call_id,
        reencoded_pairs.original_call_id,
        reencoded_pairs.similarity

    from reencoded_pairs
    left join identical
        on reencoded_pairs.call_id = identical.call_id
    where identical.call_id is null
    order by reencoded_pairs.call_id, reencoded_pairs.original_started_at, reencoded_pairs.original_call_id

),

final as (

    select
        call_id,
        original_call_id,
        'identical' as duplicate_kind,
        1.0::double precision as similarity

    from identical

    union all

    select
        call_id,
        original_call_id,
        'reencoded' as duplicate_kind,
        similarity

    from reencoded

)

select * from final
