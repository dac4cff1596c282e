with

source as (

    select * from {{ source('raw', 'redacted_transcripts') }}

),

renamed as (

    select
        sha256 as audio_sha256,
        asr_model_id,
        chunking_id as asr_chunking_id,
        channel as transcript_channel,
        redactor_version,
        text as transcript_redacted,
        entities as redacted_entities,
        created_at as redacted_at

    from source

)

select * from renamed
