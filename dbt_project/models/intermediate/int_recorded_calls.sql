-- Each call with its recording: the audio's sha256 and duration and the newest analysis' fingerprint —
-- ring-back count, speech onset, seconds of speech, and the tone timeline (every ring-back burst, voicemail
-- beep and SIT the detector found, in order: kind, start, end, frequency). Calls whose recording was never
-- loaded are left out; a recording not analysed yet has null fingerprint columns.
--
-- Incremental by call: each row keeps what it was built from — when the call was loaded, when its recording
-- was described (the loaders stamp a replaced file's rows and a re-described recording anew) and which
-- analysis is current (detector version, analysed_at). A run builds again the calls where one of these
-- differs or that have no row, with the tone timelines of their recordings only; the post-hook drops the
-- calls that are gone or whose recording is. On a 1,000,000-call warehouse after a new day of 142,858 calls
-- (benchmarks/scale.py), the model alone: the table it was before, rebuilt, 26-31 s; the new day's calls
-- 15-16 s; nothing new 13-21 s (about 5 s finding what changed, 6-10 s the post-hook's anti-join, which a
-- DELETE runs in one process).

{{ config(
    materialized='incremental',
    unique_key='call_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    post_hook=[
        "delete from {{ this }} as recorded where not exists (
            select 1 from {{ ref('stg_raw__calls') }} as calls
            inner join {{ ref('stg_raw__audio_files') }} as audio_files
                on calls.audio_path = audio_files.audio_path
            where calls.call_id = recorded.call_id)",
    ],
) }}

{#- A warehouse built before this model was incremental holds it without the keys: every call is built
    once, as a full build does (every row is replaced, and the columns are added). -#}
{%- set has_keys = is_incremental_with('analysed_at') %}

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

recordings as (

    -- each call with its recording and the recording's current analysis
    select
        calls.call_id,
        calls.branch,
        calls.client_number,
        calls.started_at,
        calls.loaded_at as call_loaded_at,
        calls.audio_path,
        audio_files.audio_sha256,
        audio_files.audio_duration_s,
        audio_files.loaded_at as audio_loaded_at,
        audio_analysis.detector_version,
        audio_analysis.analysed_at,
        audio_analysis.ring_bursts,
        audio_analysis.speech_onset_s,
        audio_analysis.speech_s

    from calls
    inner join audio_files
        on calls.audio_path = audio_files.audio_path
    left join audio_analysis
        on audio_files.audio_sha256 = audio_analysis.audio_sha256

),

pending_recordings as (

    select * from recordings
    {%- if has_keys %}
    -- the calls whose row was built from something else, or that have none
    where not exists (
        select 1 from {{ this }} as recorded
        where recorded.call_id = recordings.call_id
            and recorded.call_loaded_at = recordings.call_loaded_at
            and recorded.audio_loaded_at = recordings.audio_loaded_at
            and recorded.detector_version is not distinct from recordings.detector_version
            and recorded.analysed_at is not distinct from recordings.analysed_at
    )
    {%- endif %}

),

final as (

    -- each pending call with its analysis' timeline, looked up by the tones' primary key, call by call: a
    -- hash join of the pending calls with their timelines (two sets the planner cannot size: it estimates
    -- the pending calls at one row after the anti-join) was planned as a nested loop over every pair, and
    -- the 142,858 calls of a new day on a 1,000,000-call warehouse ran for more than nine minutes
    select
        pending_recordings.call_id,
        pending_recordings.branch,
        pending_recordings.client_number,
        pending_recordings.started_at,
        pending_recordings.call_loaded_at,
        pending_recordings.audio_path,
        pending_recordings.audio_sha256,
        pending_recordings.audio_duration_s,
        pending_recordings.ring_bursts,
        pending_recordings.speech_onset_s,
        pending_recordings.speech_s,
        case when pending_recordings.detector_version is not null
            then coalesce(timeline.tone_kinds, '{}'::text[]) end as tone_kinds,
        case when pending_recordings.detector_version is not null
            then coalesce(timeline.tone_starts_s, '{}'::double precision[]) end as tone_starts_s,
        case when pending_recordings.detector_version is not null
            then coalesce(timeline.tone_ends_s, '{}'::double precision[]) end as tone_ends_s,
        case when pending_recordings.detector_version is not null
            then coalesce(timeline.tone_frequencies_hz, '{}'::double precision[]) end
            as tone_frequencies_hz,
        pending_recordings.audio_loaded_at,
        pending_recordings.detector_version,
        pending_recordings.analysed_at

    from pending_recordings
    cross join lateral (
        select
            array_agg(audio_tones.tone_kind order by audio_tones.tone_start_s) as tone_kinds,
            array_agg(audio_tones.tone_start_s order by audio_tones.tone_start_s) as tone_starts_s,
            array_agg(audio_tones.tone_end_s order by audio_tones.tone_start_s) as tone_ends_s,
            array_agg(audio_tones.tone_frequency_hz order by audio_tones.tone_start_s) as tone_frequencies_hz

        from audio_tones
        where audio_tones.audio_sha256 = pending_recordings.audio_sha256
            and audio_tones.detector_version = pending_recordings.detector_version
    ) as timeline

)

select * from final
