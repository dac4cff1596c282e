-- A branch's outcomes on a day add up to its calls that day, the denominator of calls_pct, and every row of
-- that branch and day carries the same branch_day_calls. Returns the (day, branch) groups that disagree.
select called_on, branch, sum(calls) as calls, min(branch_day_calls) as branch_day_calls
from {{ ref('daily_call_outcomes') }}
group by called_on, branch
having sum(calls) <> min(branch_day_calls) or min(branch_day_calls) <> max(branch_day_calls)
