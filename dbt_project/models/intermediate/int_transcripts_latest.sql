-- The whole-call transcript of each recording the stages chose (raw.current_transcripts: the merged
-- dialogue of a stereo recording, else the mono mix, newest first); a recording transcribed again keeps its
-- older rows in raw. A table, analysed once built: as a join in each mart, PostgreSQL estimated the rows
-- that match the current keys (four columns) at one for 70,000, and planned call_attempts as a nested loop.

{{ config(materialized='table') }}

with

transcripts as (

    select * from {{ ref('stg_raw__transcripts') }}

),

current_transcripts as (

    select * from {{ ref('stg_raw__current_transcripts') }}

),

final as (

    select transcripts.*
    from transcripts
    inner join current_transcripts
        on transcripts.audio_sha256 = current_transcripts.audio_sha256
        and transcripts.asr_model_id = current_transcripts.asr_model_id
        and transcripts.asr_chunking_id = current_transcripts.asr_chunking_id
        and transcripts.transcript_channel = current_transcripts.transcript_channel

)

select * from final
