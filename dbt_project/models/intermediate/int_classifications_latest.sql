-- The current classification of each recording (raw.current_classifications: the newest; a recording
-- classified again by another route or prompt keeps its older rows). A table, analysed once built, for the
-- same reason as int_transcripts_latest (three key columns). Incremental by recording
-- (macros/current_rows.sql).

{%- set keys = ['classifier_model', 'prompt_version'] %}

{{ config(
    materialized='incremental',
    unique_key='audio_sha256',
    incremental_strategy='delete+insert',
    post_hook=["{{ current_rows_gone('stg_raw__current_classifications', " ~ keys ~ ") }}"],
) }}

{{ current_rows('stg_raw__classifications', 'stg_raw__current_classifications', keys, 'classified_at') }}
