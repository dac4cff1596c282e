-- Each audited order's attempts on a timeline, for Gantt and timeline charts: one row per attempt with
-- when it started and ended, minutes since the previous and since the first attempt, whether it counts
-- for rule 2 (not a reused recording), and what the call was.

with

orders as (

    select * from {{ ref('order_compliance') }}

),

attempts as (

    select * from {{ ref('call_attempts') }}

),

call_types as (

    select * from {{ ref('call_types') }}

),

positioned as (

    select
        *,
        first_value(started_at) over order_attempts as first_started_at,
        -- the running count of attempts that rule 2 counts (duplicates excluded)
        count(*) filter (where not is_duplicate) over order_attempts as counted_so_far

    from attempts
    window order_attempts as (
        partition by order_key
        order by attempt_number
        rows between unbounded preceding and current row
    )

),

final as (

    select
        positioned.attempt_key,
        positioned.order_key,
        positioned.order_id,
        positioned.order_type,
        positioned.offer,
        orders.motif_key,
        orders.ordered_on,
        orders.suspended_on,
        orders.is_compliant as is_order_compliant,
        positioned.call_id,
        positioned.attempt_number,
        case when not positioned.is_duplicate then positioned.counted_so_far::integer end as counted_attempt_number,
        not positioned.is_duplicate as is_counted,
        positioned.duplicate_of_call_id,
        positioned.started_at,
        positioned.started_at_local,
        positioned.started_at + positioned.duration_s * interval '1 second' as ended_at,
        positioned.duration_s,
        positioned.gap_minutes as minutes_since_previous,
        round(
            extract(epoch from positioned.started_at - positioned.first_started_at) / 60, 2
        )::numeric(12, 2) as minutes_since_first,
        positioned.is_gap_ok,
        positioned.branch,
        positioned.is_expected_branch,
        positioned.caller_number as technician_line,
        positioned.outcome,
        positioned.call_type,
        call_types.call_type_label,
        positioned.is_classification_trusted

    from positioned
    inner join orders
        on positioned.order_key = orders.order_key
    left join call_types
        on positioned.call_type = call_types.call_type

)

select * from final
