-- An order needs review exactly when it has a review reason; weak evidence never stands next to a verdict:
-- rule 4 is undecided while an order is in review for it, and rule 2 is undecided only for an order in
-- review with a quarantined call record of its client (a call the audit cannot see). Returns the offending
-- orders.
select order_key, attempts_ok, outcome_ok, needs_review, quarantined_call_records, review_reason
from {{ ref('order_compliance') }}
where needs_review <> (review_reason is not null)
    or (needs_review and quarantined_call_records = 0 and outcome_ok is not null)
    or (attempts_ok is null and (quarantined_call_records = 0 or not needs_review))
