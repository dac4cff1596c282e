-- One audio analysis per recording: the current one (raw.current_audio_analysis, the same choice the
-- transcription stage makes; a recording analysed again by a new detector version keeps its older rows).
-- A table, analysed once built (the analyze_table post-hook): as a view, PostgreSQL estimated the join of
-- the analyses with their current keys (two columns) at a few hundred rows for 100,000, and the models that
-- join it (int_recorded_calls, then int_attempt_duplicates) chose nested loops that ran past 15 minutes.
-- Incremental by recording (macros/current_rows.sql).

{%- set keys = ['detector_version'] %}

{{ config(
    materialized='incremental',
    unique_key='audio_sha256',
    incremental_strategy='delete+insert',
    post_hook=["{{ current_rows_gone('stg_raw__current_audio_analysis', " ~ keys ~ ") }}"],
) }}

{{ current_rows('stg_raw__audio_analysis', 'stg_raw__current_audio_analysis', keys, 'analysed_at') }}
