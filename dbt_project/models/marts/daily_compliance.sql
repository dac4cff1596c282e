-- Compliance by day for dashboards: one row per audited day (the manifest's) × suspension day × order type
-- × offer × expected branch × motif × technician line, with how many audited orders there were, how many were compliant and how many
-- failed each rule. Every audited order is counted in exactly one row, so the rows add up to
-- order_compliance.

with

orders as (

    select * from {{ ref('order_compliance') }}

),

order_lines as (

    -- an order is counted under the line that made its first attempt (null: nobody called)
    select * from {{ ref('int_order_technician_lines') }}

),

orders_with_line as (

    select
        orders.*,
        order_lines.technician_line

    from orders
    left join order_lines
        on orders.order_key = order_lines.order_key

),

aggregated as (

    select
        listed_on,
        suspended_on,
        order_type,
        offer,
        expected_branch,
        motif_key,
        technician_line,
        {{ order_rule_counts() }},
        sum(attempts)::integer as attempts,
        sum(attempts - counted_attempts)::integer as duplicate_attempts

    from orders_with_line
    group by 1, 2, 3, 4, 5, 6, 7

),

final as (

    select
        concat_ws(
            '|',
            listed_on,
            suspended_on,
            order_type,
            offer,
            coalesce(expected_branch, '-'),
            coalesce(motif_key, '-'),
            coalesce(technician_line, '-')
        ) as daily_compliance_key,
        listed_on,
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
