-- Calls that reuse another call's conversation: the same file (int_duplicate_recordings), or the same
-- conversation re-encoded — transcripts similar in meaning (int_similar_transcripts) AND the same audio
-- fingerprint (ring-back count, speech onset within 0.1 s, duration within 0.5 s), which identical
-- voicemail greetings or scripted phrases of two real calls do not share. The earliest call is the
-- original; every later one is a duplicate, whichever order it was claimed for.

with

calls as (

    select * from {{ ref('stg_raw__calls') }}

),

audio_files as (

    select * from {{ ref('stg_raw__audio_files') }}

),

audio_analysis as (

    select * from {{ ref('stg_raw__audio_analysis') }}

),

identical as (

    select * from {{ ref('int_duplicate_recordings') }}

),

similar_pairs as (

    select * from {{ ref('int_similar_transcripts') }}

),

latest_analysis as (

    select distinct on (audio_sha256) *
    from audio_analysis
    order by audio_sha256, analysed_at desc, detector_version desc

),

call_fingerprints as (

    select
        calls.call_id,
        calls.started_at,
        audio_files.audio_sha256,
        audio_files.audio_duration_s,
        latest_analysis.ring_bursts,
        latest_analysis.speech_onset_s

    from calls
    inner join audio_files
        on calls.audio_path = audio_files.audio_path
    left join latest_analysis
        on audio_files.audio_sha256 = latest_analysis.audio_sha256

),

reencoded_pairs as (

    select
        later.call_id,
        earlier.call_id as original_call_id,
        earlier.started_at as original_started_at,
        similar_pairs.similarity

    from similar_pairs
    inner join call_fingerprints as later
        on similar_pairs.audio_sha256 = later.audio_sha256
    inner join call_fingerprints as earlier
        on similar_pairs.similar_audio_sha256 = earlier.audio_sha256
    where (earlier.started_at, earlier.call_id) < (later.started_at, later.call_id)
        and later.ring_bursts = earlier.ring_bursts
        and abs(later.speech_onset_s - earlier.speech_onset_s) <= 0.1
        and abs(later.audio_duration_s - earlier.audio_duration_s) <= 0.5

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
