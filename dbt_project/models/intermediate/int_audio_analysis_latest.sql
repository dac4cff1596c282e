-- One audio analysis per recording: the current one (raw.current_audio_analysis, the same choice the
-- transcription stage makes; a recording analysed again by a new detector version keeps its older rows).
-- A table, analysed once built (the analyze_table post-hook): as a view, PostgreSQL estimated the join of
-- the analyses with their current keys (two columns) at a few hundred rows for 100,000, and the models that
-- join it (int_recorded_calls, then int_attempt_duplicates) chose nested loops that ran past 15 minutes.

{{ config(materialized='table') }}

with

audio_analysis as (

    select * from {{ ref('stg_raw__audio_analysis') }}

),

current_analysis as (

    select * from {{ ref('stg_raw__current_audio_analysis') }}

),

final as (

    select audio_analysis.*

    from audio_analysis
    inner join current_analysis
        on audio_analysis.audio_sha256 = current_analysis.audio_sha256
        and audio_analysis.detector_version = current_analysis.detector_version

)

select * from final
