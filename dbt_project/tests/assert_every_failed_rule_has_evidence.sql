-- Every failed rule of every order has at least one row of proof in verdict_evidence (a call, or a row
-- that says why no call can show it). Returns the failed rules without one.
with

failed_rules as (

    select order_key, failed.rule
    from {{ ref('order_compliance') }}
    cross join lateral (
        values
            ('branch', not branch_ok),
            ('attempts', not attempts_ok),
            ('gap', not gap_ok),
            ('outcome', outcome_ok = false),
            ('duplicate', not duplicate_ok)
    ) as failed (rule, has_failed)
    where failed.has_failed

)

select failed_rules.order_key, failed_rules.rule
from failed_rules
left join {{ ref('verdict_evidence') }} as evidence
    on failed_rules.order_key = evidence.order_key
    and failed_rules.rule = evidence.rule
where evidence.order_key is null
