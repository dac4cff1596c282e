-- Compliance by day for dashboards: one row per suspension day × order type × offer × expected branch ×
-- motif × technician line, with how many audited orders there were, how many were compliant and how many
-- failed each rule. Every audited order is counted in exactly one row, so the rows add up to
-- order_compliance.

with

orders as (

    select * from {{ ref('order_compliance') }}

),

attempts as (

    select * from {{ ref('call_attempts') }}

),

first_attempts as (

    -- an order is counted under the line that made its first attempt (null: nobody called)
    select
        order_key,
        caller_number as technician_line

    from attempts
    where attempt_number = 1

),

orders_with_line as (

    select
        orders.*,
        first_attempts.technician_line

    from orders
    left join first_attempts
        on orders.order_key = first_attempts.order_key

),

aggregated as (

    select
        suspended_on,
        order_type,
        offer,
        expected_branch,
        motif_key,
        technician_line,
        count(*)::integer as orders,
        count(*) filter (where compliant)::integer as compliant_orders,
        count(*) filter (where not branch_ok)::integer as branch_failed_orders,
        count(*) filter (where not attempts_ok)::integer as attempts_failed_orders,
        count(*) filter (where not gap_ok)::integer as gap_failed_orders,
        count(*) filter (where outcome_ok = false)::integer as outcome_failed_orders,
        count(*) filter (where outcome_ok is null)::integer as outcome_pending_orders,
        count(*) filter (where needs_review)::integer as needs_review_orders,
        count(*) filter (where not duplicate_ok)::integer as duplicate_orders,
        sum(attempts)::integer as attempts,
        sum(attempts - counted_attempts)::integer as duplicate_attempts

    from orders_with_line
    group by 1, 2, 3, 4, 5, 6

),

final as (

    select
        concat_ws(
            '|',
            suspended_on,
            order_type,
            offer,
            coalesce(expected_branch, '-'),
            coalesce(motif_key, '-'),
            coalesce(technician_line, '-')
        ) as daily_compliance_key,
        suspended_on,
        order_type,
        offer,
        expected_branch,
        motif_key,
        technician_line,
        orders,
        compliant_orders,
        (orders - compliant_orders)::integer as non_compliant_orders,
        round(100.0 * compliant_orders / orders, 1)::numeric(5, 1) as compliant_pct,
        branch_failed_orders,
        attempts_failed_orders,
        gap_failed_orders,
        outcome_failed_orders,
        outcome_pending_orders,
        needs_review_orders,
        duplicate_orders,
        attempts,
        duplicate_attempts

    from aggregated

)

select * from final
