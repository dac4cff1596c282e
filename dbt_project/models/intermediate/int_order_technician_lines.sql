-- The technician line each audited order is counted under: the line that made its first attempt (null when
-- nobody called). Dashboards by line (daily_compliance, technician_scorecards) count an order once, here.

with

attempts as (

    select * from {{ ref('call_attempts') }}

),

final as (

    select
        order_key,
        caller_number as technician_line

    from attempts
    where attempt_number = 1

)

select * from final
