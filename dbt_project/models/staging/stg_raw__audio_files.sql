with

source as (

    select * from {{ source('raw', 'audio_files') }}

),

renamed as (

    select
        audio_path,
        sha256 as audio_sha256,
        duration_s::numeric(10, 2) as audio_duration_s,
        sample_rate,
        channels,
        format as audio_format,
        subtype as audio_subtype,
        size_bytes,
        loaded_at

    from source

)

select * from renamed
