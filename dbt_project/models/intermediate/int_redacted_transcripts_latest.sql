-- The redaction of each recording's current transcript that the classification and embedding stages read
-- (raw.current_redacted_transcripts). A table, analysed once built, for the same reason as
-- int_transcripts_latest (five key columns). Incremental by recording (macros/current_rows.sql).

{%- set keys = ['asr_model_id', 'asr_chunking_id', 'transcript_channel', 'redactor_version'] %}

{{ config(
    materialized='incremental',
    unique_key='audio_sha256',
    incremental_strategy='delete+insert',
    post_hook=["{{ current_rows_gone('stg_raw__current_redacted_transcripts', " ~ keys ~ ") }}"],
) }}

{{ current_rows('stg_raw__redacted_transcripts', 'stg_raw__current_redacted_transcripts', keys, 'redacted_at') }}
