-- One row per audited order: each rule of DESIGN.md evaluated, the verdict and the failed rules.

with

orders as (

    select * from {{ ref('int_orders_deduplicated') }}

),

attempts as (

    select * from {{ ref('call_attempts') }}

),

attempt_summary as (

    select
        order_key,
        count(*) as attempts,
        count(*) filter (where not is_expected_branch) as wrong_branch_attempts,
        count(*) filter (where is_gap_ok = false) as short_gaps,
        min(gap_minutes) as min_gap_minutes,
        min(started_at) as first_attempt_at,
        max(started_at) as last_attempt_at,
        count(*) filter (where outcome is not null) as attempts_with_outcome,
        count(*) filter (where outcome = 'answered') as answered_attempts,
        count(*) filter (
            where outcome is not null and (outcome <> 'answered' or (call_type is not null and classification_trusted))
        ) as attempts_with_evidence,
        array_agg(distinct call_type) filter (
            where outcome = 'answered' and call_type is not null and classification_trusted
        ) as answered_call_types,
        -- the transcript disagrees with the audio: a trusted classification heard a conversation
        count(*) filter (
            where outcome <> 'answered' and classification_trusted and call_type between 1 and 4
        ) as contradicted_attempts,
        count(*) filter (where call_type is not null and not classification_trusted) as untrusted_attempts,
        count(*) filter (where is_duplicate) as duplicate_attempts,
        array_agg('recording reused from call ' || duplicate_of_call_id order by attempt_number)
            filter (where is_duplicate) as duplicate_notes

    from attempts
    group by order_key

),

rules as (

    select
        orders.*,
        coalesce(attempt_summary.attempts, 0)::integer as attempts,
        attempt_summary.first_attempt_at,
        attempt_summary.last_attempt_at,
        attempt_summary.min_gap_minutes,
        coalesce(attempt_summary.wrong_branch_attempts, 0) = 0 as branch_ok,
        -- rule 2 counts conversations, not claims: an attempt reusing another call's recording does not count
        coalesce(attempt_summary.attempts, 0) - coalesce(attempt_summary.duplicate_attempts, 0)
            >= orders.min_attempts as attempts_ok,
        (coalesce(attempt_summary.attempts, 0) - coalesce(attempt_summary.duplicate_attempts, 0))::integer
            as counted_attempts,
        coalesce(attempt_summary.duplicate_attempts, 0) = 0 as duplicate_ok,
        coalesce(attempt_summary.duplicate_notes, '{}') as duplicate_notes,
        coalesce(attempt_summary.short_gaps, 0) = 0 as gap_ok,
        case
            -- rule 4, injoignable: no attempt may be a conversation; known once every attempt has an outcome
            when orders.motif_key = 'injoignable' then
                case
                    when attempt_summary.answered_attempts > 0 then false
                    when attempt_summary.contradicted_attempts > 0 then false
                    when coalesce(attempt_summary.attempts, 0) = coalesce(attempt_summary.attempts_with_outcome, 0)
                        then true
                end
            -- rule 4, other motifs: an answered attempt's call type matches the motif
            when orders.expected_call_type is not null then
                case
                    when orders.expected_call_type = any(attempt_summary.answered_call_types) then true
                    when coalesce(attempt_summary.attempts, 0) = coalesce(attempt_summary.attempts_with_evidence, 0)
                        then false
                end
        end as outcome_ok,
        coalesce(attempt_summary.untrusted_attempts, 0)::integer as untrusted_attempts

    from orders
    left join attempt_summary
        on orders.order_key = attempt_summary.order_key

),

verdicts as (

    select
        order_key,
        order_id,
        order_type,
        offer,
        motif,
        motif_key,
        client_number,
        ordered_on,
        suspended_on,
        expected_branch,
        attempts,
        counted_attempts,
        min_attempts,
        first_attempt_at,
        last_attempt_at,
        min_gap_minutes,
        branch_ok,
        attempts_ok,
        gap_ok,
        outcome_ok,
        duplicate_ok,
        outcome_ok is not null as is_outcome_evaluated,
        -- an untrusted classification is never evidence: a person decides rule 4
        outcome_ok is null and untrusted_attempts > 0 as needs_review,
        untrusted_attempts,
        branch_ok and attempts_ok and gap_ok and coalesce(outcome_ok, true) and duplicate_ok as compliant,
        array_remove(
            array[
                case when not branch_ok then 'branch' end,
                case when not attempts_ok then 'attempts' end,
                case when not gap_ok then 'gap' end,
                case when outcome_ok = false then 'outcome' end
            ],
            null
        )::text[] || duplicate_notes::text[] as reasons,
        listed_times,
        source_file

    from rules

),

final as (

    select
        *,
        array_to_string(reasons, ', ') as reasons_text

    from verdicts

)

select * from final
