-- An order needs review exactly when it has a review reason; weak evidence never stands next to a verdict:
-- rule 4 is undecided while an order is in review for it, and rule 2 is undecided only for an order in
-- review with a quarantined call record of its client (a call the audit cannot see). Returns the offending
-- orders.
select order_key, is_attempts_ok, is_outcome_ok, is_review_needed, quarantined_call_records, review_reason
from {{ ref('order_compliance') }}
where is_review_needed <> (review_reason is not null)
    or (is_review_needed and quarantined_call_records = 0 and is_outcome_ok is not null)
    or (is_attempts_ok is null and (quarantined_call_records = 0 or not is_review_needed))
