-- Every failed rule of every order has at least one row of proof in verdict_evidence, and a rule the machine
-- failed on an order with attempts is shown by a call (a row without a call is only for an order nobody
-- called, or a person's decision): verdict_evidence and order_compliance agree on what each rule saw.
-- Returns the failed rules without proof.
with

verdicts as (

    select * from {{ ref('order_compliance') }}

),

evidence as (

    select * from {{ ref('verdict_evidence') }}

),

failed_rules as (

    select verdicts.order_key, verdicts.attempts, verdicts.decided_by, failed.rule
    from verdicts
    cross join lateral (
        values
            ('branch', not verdicts.is_branch_ok),
            ('attempts', not verdicts.is_attempts_ok),
            ('gap', not verdicts.is_gap_ok),
            ('outcome', verdicts.is_outcome_ok = false),
            ('duplicate', not verdicts.is_duplicate_ok)
    ) as failed (rule, has_failed)
    where failed.has_failed

)

select failed_rules.order_key, failed_rules.rule
from failed_rules
where not exists (
    select 1 from evidence
    where evidence.order_key = failed_rules.order_key
        and evidence.rule = failed_rules.rule
        and (evidence.call_id is not null or failed_rules.attempts = 0 or failed_rules.decided_by <> 'machine')
)
