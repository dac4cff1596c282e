-- Call records quarantined at load (ops.rejects of a calls file: a value that does not parse, a call_id twice
-- in one file or already loaded from another file) that still name a client number and a start time: calls
-- that may have been made but that the audit cannot see.

with

source as (

    select * from {{ source('ops', 'rejects') }}

),

quarantined as (

    select
        reject_id,
        source as source_file,
        location,
        reason,
        payload ->> 'call_id' as call_id,
        payload ->> 'client_e164' as client_number,
        (payload ->> 'started_at')::timestamptz as started_at,
        rejected_at

    from source
    where
        source_kind = 'calls'
        and payload ? 'client_e164'
        and payload ? 'started_at'

)

select * from quarantined
