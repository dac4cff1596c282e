-- An order needs review exactly when it has a review reason, and only while rule 4 is undecided: weak
-- evidence never stands next to a verdict. Returns the offending orders.
select order_key, outcome_ok, needs_review, review_reason
from {{ ref('order_compliance') }}
where needs_review <> (review_reason is not null)
    or (needs_review and outcome_ok is not null)
