with

source as (

    select * from {{ source('raw', 'current_redacted_transcripts') }}

),

renamed as (

    select
        sha256 as audio_sha256,
        asr_model_id,
        chunking_id as asr_chunking_id,
        channel as transcript_channel,
        redactor_version

    from source

)

select * from renamed
