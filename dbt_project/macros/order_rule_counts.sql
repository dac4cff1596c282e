{#- The per-rule counts of a group of audited orders (rows of order_compliance), for the marts that count
    orders by group (daily_compliance, technician_scorecards): one definition of what each count means. -#}
{% macro order_rule_counts() %}
        count(*)::integer as orders,
        count(*) filter (where is_compliant)::integer as compliant_orders,
        count(*) filter (where not is_branch_ok)::integer as branch_failed_orders,
        count(*) filter (where not is_attempts_ok)::integer as attempts_failed_orders,
        count(*) filter (where not is_gap_ok)::integer as gap_failed_orders,
        count(*) filter (where is_outcome_ok = false)::integer as outcome_failed_orders,
        count(*) filter (where is_outcome_ok is null)::integer as outcome_pending_orders,
        count(*) filter (where is_review_needed)::integer as needs_review_orders,
        count(*) filter (where not is_duplicate_ok)::integer as duplicate_orders
{%- endmacro %}
