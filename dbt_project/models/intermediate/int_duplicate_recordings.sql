-- Calls whose recording is byte-identical (same sha256) to the recording of a call that started earlier.

with

calls as (

    select * from {{ ref('stg_raw__calls') }}

),

audio_files as (

    select * from {{ ref('stg_raw__audio_files') }}

),

calls_with_audio as (

    select
        calls.call_id,
        calls.started_at,
        audio_files.audio_sha256

    from calls
    inner join audio_files
        on calls.audio_path = audio_files.audio_path

),

ranked as (

    select
        *,
        first_value(call_id) over (
            partition by audio_sha256 order by started_at, call_id
        ) as original_call_id

    from calls_with_audio

),

final as (

    select
        call_id,
        original_call_id,
        audio_sha256

    from ranked
    where call_id <> original_call_id

)

select * from final
