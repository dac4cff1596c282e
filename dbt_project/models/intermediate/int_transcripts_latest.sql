-- The whole-call transcript of each recording the stages chose (raw.current_transcripts: the merged
-- dialogue of a stereo recording, else the mono mix, newest first); a recording transcribed again keeps its
-- older rows in raw. A table, analysed once built: as a join in each mart, PostgreSQL estimated the rows
-- that match the current keys (four columns) at one for 70,000, and planned call_attempts as a nested loop.
-- Incremental by recording (macros/current_rows.sql).

{%- set keys = ['asr_model_id', 'asr_chunking_id', 'transcript_channel'] %}

{{ config(
    materialized='incremental',
    unique_key='audio_sha256',
    incremental_strategy='delete+insert',
    post_hook=["{{ current_rows_gone('stg_raw__current_transcripts', " ~ keys ~ ") }}"],
) }}

{{ current_rows('stg_raw__transcripts', 'stg_raw__current_transcripts', keys, 'transcribed_at') }}
