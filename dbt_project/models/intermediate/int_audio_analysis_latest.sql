-- One audio analysis per recording: the newest (a recording analysed again by a new detector version
-- keeps its older rows in raw).

with

audio_analysis as (

    select * from {{ ref('stg_raw__audio_analysis') }}

),

final as (

    select distinct on (audio_sha256) *
    from audio_analysis
    order by audio_sha256, analysed_at desc, detector_version desc

)

select * from final
