with

source as (

    select * from {{ source('raw', 'current_audio_analysis') }}

),

renamed as (

    select
        sha256 as audio_sha256,
        detector_version

    from source

)

select * from renamed
