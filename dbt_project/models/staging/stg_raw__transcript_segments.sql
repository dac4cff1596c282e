with

source as (

    select * from {{ source('raw', 'transcript_segments') }}

),

renamed as (

    select
        sha256 as audio_sha256,
        model_id as asr_model_id,
        chunking_id as asr_chunking_id,
        channel as transcript_channel,
        segment_index,
        start_s as segment_start_s,
        end_s as segment_end_s,
        text as segment_text

    from source

)

select * from renamed
