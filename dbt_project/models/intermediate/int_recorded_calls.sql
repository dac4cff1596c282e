-- Each call with its recording: the audio's sha256, duration and the newest analysis' fingerprint
-- (ring-back count, speech onset). Calls whose recording was never loaded are left out.

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

final as (

    select
        calls.call_id,
        calls.branch,
        calls.client_number,
        calls.started_at,
        calls.audio_path,
        audio_files.audio_sha256,
        audio_files.audio_duration_s,
        audio_analysis.ring_bursts,
        audio_analysis.speech_onset_s

    from calls
    inner join audio_files
        on calls.audio_path = audio_files.audio_path
    left join audio_analysis
        on audio_files.audio_sha256 = audio_analysis.audio_sha256

)

select * from final
