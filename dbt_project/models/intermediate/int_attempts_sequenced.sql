-- Attempts in order per order, with the gap to the previous attempt (rule 3's input).

-- A table, analysed once built: the marts join it (call_attempts with five more tables), and they plan
-- those joins from its real size.

{{ config(materialized='table') }}

with

attempts as (

    select * from {{ ref('int_attempts_matched') }}

),

sequenced as (

    select
        *,
        row_number() over order_attempts as attempt_number,
        lag(started_at) over order_attempts as previous_started_at

    from attempts
    window order_attempts as (partition by order_key order by started_at, call_id)

),

final as (

    select
        *,
        extract(epoch from started_at - previous_started_at)::double precision as gap_seconds,
        round(extract(epoch from started_at - previous_started_at) / 60, 2) as gap_minutes

    from sequenced

)

select * from final
