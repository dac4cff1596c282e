-- One row per reviewed order: each rule's latest human decision (pass → true, fail → false, confirm → the
-- machine's value when the person looked), the machine's value at that moment, and who decided last.

with

reviews as (

    select * from {{ ref('stg_ops__reviews') }}

),

latest_per_rule as (

    select distinct on (order_key, rule)
        order_key,
        rule,
        case decision
            when 'pass' then true
            when 'fail' then false
            else machine_ok_at_review
        end as is_rule_ok,
        machine_ok_at_review,
        reviewer,
        reviewed_at

    from reviews
    order by order_key, rule, reviewed_at desc, review_id desc

),

final as (

    select
        order_key,
        bool_or(is_rule_ok) filter (where rule = 'branch') as branch_ok,
        bool_or(is_rule_ok) filter (where rule = 'attempts') as attempts_ok,
        bool_or(is_rule_ok) filter (where rule = 'gap') as gap_ok,
        bool_or(is_rule_ok) filter (where rule = 'outcome') as outcome_ok,
        bool_or(is_rule_ok) filter (where rule = 'duplicates') as duplicate_ok,
        count(*) filter (where rule = 'branch') > 0 as has_branch_review,
        count(*) filter (where rule = 'attempts') > 0 as has_attempts_review,
        count(*) filter (where rule = 'gap') > 0 as has_gap_review,
        count(*) filter (where rule = 'outcome') > 0 as has_outcome_review,
        count(*) filter (where rule = 'duplicates') > 0 as has_duplicates_review,
        bool_or(machine_ok_at_review) filter (where rule = 'branch') as machine_branch_ok_at_review,
        bool_or(machine_ok_at_review) filter (where rule = 'attempts') as machine_attempts_ok_at_review,
        bool_or(machine_ok_at_review) filter (where rule = 'gap') as machine_gap_ok_at_review,
        bool_or(machine_ok_at_review) filter (where rule = 'outcome') as machine_outcome_ok_at_review,
        bool_or(machine_ok_at_review) filter (where rule = 'duplicates') as machine_duplicate_ok_at_review,
        (array_agg(reviewer order by reviewed_at desc))[1] as last_reviewer,
        max(reviewed_at) as last_reviewed_at

    from latest_per_rule
    group by order_key

)

select * from final
