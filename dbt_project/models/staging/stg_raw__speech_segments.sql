with

source as (

    select * from {{ source('raw', 'speech_segments') }}

),

renamed as (

    select
        sha256 as audio_sha256,
        detector_version,
        channel as audio_channel,
        start_s as speech_start_s,
        end_s as speech_end_s

    from source

)

select * from renamed
