-- Each recording's spans of speech from its newest audio analysis (older detector versions' spans stay in
-- raw): what verdict evidence points to and what the conversation measures add up.

with

speech_segments as (

    select * from {{ ref('stg_raw__speech_segments') }}

),

audio_analysis as (

    select * from {{ ref('int_audio_analysis_latest') }}

),

final as (

    select speech_segments.*

    from speech_segments
    inner join audio_analysis
        on speech_segments.audio_sha256 = audio_analysis.audio_sha256
        and speech_segments.detector_version = audio_analysis.detector_version

)

select * from final
