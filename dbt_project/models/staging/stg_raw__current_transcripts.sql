with

source as (

    select * from {{ source('raw', 'current_transcripts') }}

),

renamed as (

    select
        sha256 as audio_sha256,
        model_id as asr_model_id,
        chunking_id as asr_chunking_id,
        channel as transcript_channel

    from source

)

select * from renamed
