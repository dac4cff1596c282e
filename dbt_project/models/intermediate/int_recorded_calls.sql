-- Each call with its recording: the audio's sha256 and duration and the newest analysis' fingerprint —
-- ring-back count, speech onset, seconds of speech, and the tone timeline (every ring-back burst, voicemail
-- beep and SIT the detector found, in order: kind, start, end, frequency). Calls whose recording was never
-- loaded are left out; a recording not analysed yet has null fingerprint columns.

-- A table (analysed once built): several models join it, and each computed the tone timelines again.

{{ config(materialized='table') }}

with

calls as (

    select * from {{ ref('stg_raw__calls') }}

),

audio_files as (

    select * from {{ ref('stg_raw__audio_files') }}

),

audio_analysis as (

    select * from {{ ref('int_audio_analysis_latest') }}

),

audio_tones as (

    select * from {{ ref('stg_raw__audio_tones') }}

),

tone_timelines as (

    select
        audio_analysis.audio_sha256,
        array_agg(audio_tones.tone_kind order by audio_tones.tone_start_s) as tone_kinds,
        array_agg(audio_tones.tone_start_s order by audio_tones.tone_start_s) as tone_starts_s,
        array_agg(audio_tones.tone_end_s order by audio_tones.tone_start_s) as tone_ends_s,
        array_agg(audio_tones.tone_frequency_hz order by audio_tones.tone_start_s) as tone_frequencies_hz

    from audio_analysis
    inner join audio_tones
        on audio_analysis.audio_sha256 = audio_tones.audio_sha256
        and audio_analysis.detector_version = audio_tones.detector_version
    group by audio_analysis.audio_sha256

),

final as (

    select
        calls.call_id,
        calls.branch,
        calls.client_number,
        calls.started_at,
        calls.loaded_at as call_loaded_at,
        calls.audio_path,
        audio_files.audio_sha256,
        audio_files.audio_duration_s,
        audio_analysis.ring_bursts,
        audio_analysis.speech_onset_s,
        audio_analysis.speech_s,
        case when audio_analysis.audio_sha256 is not null
            then coalesce(tone_timelines.tone_kinds, '{}'::text[]) end as tone_kinds,
        case when audio_analysis.audio_sha256 is not null
            then coalesce(tone_timelines.tone_starts_s, '{}'::double precision[]) end as tone_starts_s,
        case when audio_analysis.audio_sha256 is not null
            then coalesce(tone_timelines.tone_ends_s, '{}'::double precision[]) end as tone_ends_s,
        case when audio_analysis.audio_sha256 is not null
            then coalesce(tone_timelines.tone_frequencies_hz, '{}'::double precision[]) end
            as tone_frequencies_hz

    from calls
    inner join audio_files
        on calls.audio_path = audio_files.audio_path
    left join audio_analysis
        on audio_files.audio_sha256 = audio_analysis.audio_sha256
    left join tone_timelines
        on audio_files.audio_sha256 = tone_timelines.audio_sha256

)

select * from final
