-- The redaction of each recording's current transcript that the classification and embedding stages read
-- (raw.current_redacted_transcripts). A table, analysed once built, for the same reason as
-- int_transcripts_latest (five key columns).

{{ config(materialized='table') }}

with

redacted_transcripts as (

    select * from {{ ref('stg_raw__redacted_transcripts') }}

),

current_redacted as (

    select * from {{ ref('stg_raw__current_redacted_transcripts') }}

),

final as (

    select redacted_transcripts.*
    from redacted_transcripts
    inner join current_redacted
        on redacted_transcripts.audio_sha256 = current_redacted.audio_sha256
        and redacted_transcripts.asr_model_id = current_redacted.asr_model_id
        and redacted_transcripts.asr_chunking_id = current_redacted.asr_chunking_id
        and redacted_transcripts.transcript_channel = current_redacted.transcript_channel
        and redacted_transcripts.redactor_version = current_redacted.redactor_version

)

select * from final
