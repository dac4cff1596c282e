with

source as (

    select * from {{ source('raw', 'audio_tones') }}

),

renamed as (

    select
        sha256 as audio_sha256,
        detector_version,
        kind as tone_kind,
        start_s as tone_start_s,
        end_s as tone_end_s,
        frequency_hz as tone_frequency_hz

    from source

)

select * from renamed
