-- Recordings the pipeline quarantined as unanalysable (ops.rejects): a file outside the audio root, one that
-- does not decode, or one that holds nothing to analyse (no samples, an absurd rate, NaN/Inf samples). A
-- recording merely not found yet is not here: it may still arrive, and its attempt waits for it.

with

source as (

    select * from {{ source('ops', 'rejects') }}

),

unanalysable as (

    select distinct on (source)
        source as audio_path,
        reason as unanalysable_reason,
        rejected_at

    from source
    where
        source_kind = 'audio_analysis'
        or (source_kind = 'audio' and coalesce((payload ->> 'unanalysable')::boolean, false))
    order by source, rejected_at desc, reject_id desc

)

select * from unanalysable
