with

source as (

    select * from {{ source('raw', 'audio_analysis') }}

),

renamed as (

    select
        sha256 as audio_sha256,
        detector_version,
        outcome,
        outcome_confidence,
        ring_bursts,
        voicemail_beeps,
        sit_tones,
        speech_onset_s,
        speech_s,
        agent_speech_s,
        customer_speech_s,
        analysed_at

    from source

)

select * from renamed
