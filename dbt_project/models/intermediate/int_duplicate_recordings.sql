-- Calls whose recording is byte-identical (same sha256) to the recording of a call that started earlier.

with

calls_with_audio as (

    select * from {{ ref('int_recorded_calls') }}

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
