-- The current classification of each recording (raw.current_classifications: the newest; a recording
-- classified again by another route or prompt keeps its older rows). A table, analysed once built, for the
-- same reason as int_transcripts_latest (three key columns).

{{ config(materialized='table') }}

with

classifications as (

    select * from {{ ref('stg_raw__classifications') }}

),

current_classifications as (

    select * from {{ ref('stg_raw__current_classifications') }}

),

final as (

    select classifications.*
    from classifications
    inner join current_classifications
        on classifications.audio_sha256 = current_classifications.audio_sha256
        and classifications.classifier_model = current_classifications.classifier_model
        and classifications.prompt_version = current_classifications.prompt_version

)

select * from final
