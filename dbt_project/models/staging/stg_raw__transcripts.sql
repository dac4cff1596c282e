with

source as (

    select * from {{ source('raw', 'transcripts') }}

),

renamed as (

    select
        sha256 as audio_sha256,
        model_id as asr_model_id,
        chunking_id as asr_chunking_id,
        channel as transcript_channel,
        length(text) as transcript_chars,
        confidence as asr_confidence,
        segments as transcript_segments,
        created_at as transcribed_at

    from source

)

select * from renamed
