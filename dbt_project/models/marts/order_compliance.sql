-- One row per audited order: each rule of DESIGN.md evaluated, the verdict and the failed rules.

with

orders as (

    select * from {{ ref('int_orders_deduplicated') }}

),

attempts as (

    select * from {{ ref('call_attempts') }}

),

reviews as (

    select * from {{ ref('int_order_reviews') }}

),

quarantined as (

    select * from {{ ref('int_order_quarantined_calls') }}

),

attempt_evidence as (

    -- What each attempt can say about rule 4. The audio decides whether a call was a conversation at all: a
    -- call heard as voicemail, no answer or unreachable never was, whatever words a message left in it. An
    -- answered call is a conversation about its call type only when that classification is trusted
    -- (valid, nothing invented, probability ≥ classification_min_confidence); otherwise it is weak
    -- evidence, and rule 4 goes to a person rather than accuse the technician. A recording quarantined as
    -- unanalysable is weak evidence too: never an outcome, so never certified from nothing (DESIGN rule 5).
    select
        *,
        case
            when unanalysable_reason is not null then 'weak'
            when outcome is null then 'pending'
            when outcome <> 'answered' then 'unanswered'
            when call_type is null and has_transcript and coalesce(transcript_chars, 0) = 0 then 'weak'
            when call_type is null then 'pending'
            when not coalesce(is_classification_trusted, false) then 'weak'
            when call_type = 0 then 'weak'
            else 'conversation'
        end as evidence,
        case
            when unanalysable_reason is not null then 'recording quarantined (' || unanalysable_reason || ')'
            when outcome is distinct from 'answered' then null
            when call_type is null and has_transcript and coalesce(transcript_chars, 0) = 0
                then 'answered but no words to classify'
            when call_type is null then null
            when not coalesce(is_call_type_confident, true)
                then 'call type untrusted (p=' || to_char(call_type_confidence, 'FM0.00') || ')'
            when not coalesce(is_classification_trusted, false)
                then 'classification untrusted (invalid or invented content)'
            when call_type = 0 then 'answered but classified as no conversation'
        end as weak_note

    from attempts

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
        count(*) filter (where evidence = 'conversation') as conversation_attempts,
        count(*) filter (where evidence = 'pending') as pending_attempts,
        count(*) filter (where evidence = 'weak') as weak_attempts,
        array_agg(distinct call_type) filter (where evidence = 'conversation') as conversation_call_types,
        string_agg('call ' || call_id || ': ' || weak_note, '; ' order by attempt_number, call_id)
            filter (where evidence = 'weak') as weak_evidence,
        count(*) filter (where call_type is not null and not is_classification_trusted) as untrusted_attempts,
        count(*) filter (where is_duplicate) as duplicate_attempts,
        array_agg('recording reused from call ' || duplicate_of_call_id order by attempt_number)
            filter (where is_duplicate) as duplicate_notes

    from attempt_evidence
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
        -- rule 2 counts conversations, not claims: an attempt reusing another call's recording does not count.
        -- Too few attempts is no failure while a quarantined call record of the client falls in the window:
        -- the call the audit cannot see may be the missing attempt (null, a person decides)
        case
            when coalesce(attempt_summary.attempts, 0) - coalesce(attempt_summary.duplicate_attempts, 0)
                >= orders.min_attempts then true
            when coalesce(quarantined.quarantined_call_records, 0) > 0 then null
            else false
        end as attempts_ok,
        (coalesce(attempt_summary.attempts, 0) - coalesce(attempt_summary.duplicate_attempts, 0))::integer
            as counted_attempts,
        coalesce(attempt_summary.duplicate_attempts, 0) = 0 as duplicate_ok,
        coalesce(attempt_summary.duplicate_notes, '{}') as duplicate_notes,
        coalesce(attempt_summary.short_gaps, 0) = 0 as gap_ok,
        -- rule 4 fails only on trusted evidence; undecided (null) while an attempt awaits its evidence, while
        -- only weak evidence could decide it, or while a quarantined call record could be the deciding call
        case
            -- injoignable: no attempt may be a conversation (an answered call with a trusted call type 1-4)
            when orders.motif_key = 'injoignable' then
                case
                    when attempt_summary.conversation_attempts > 0 then false
                    when coalesce(attempt_summary.pending_attempts, 0) > 0 then null
                    when coalesce(attempt_summary.weak_attempts, 0) > 0 then null
                    when coalesce(quarantined.quarantined_call_records, 0) > 0 then null
                    else true
                end
            -- other motifs: an answered attempt's trusted call type matches the motif
            when orders.expected_call_type is not null then
                case
                    when orders.expected_call_type = any(attempt_summary.conversation_call_types) then true
                    when coalesce(attempt_summary.pending_attempts, 0) > 0 then null
                    when coalesce(attempt_summary.weak_attempts, 0) > 0 then null
                    when coalesce(quarantined.quarantined_call_records, 0) > 0 then null
                    else false
                end
        end as outcome_ok,
        coalesce(attempt_summary.weak_attempts, 0)::integer as weak_attempts,
        attempt_summary.weak_evidence,
        coalesce(attempt_summary.untrusted_attempts, 0)::integer as untrusted_attempts,
        coalesce(quarantined.quarantined_call_records, 0) as quarantined_call_records,
        quarantined.quarantined_calls_note

    from orders
    left join attempt_summary
        on orders.order_key = attempt_summary.order_key
    left join quarantined
        on orders.order_key = quarantined.order_key

),

decided as (

    -- A person's latest decision on a rule stands over the machine's value (ops.reviews, `callaudit
    -- review`); the machine's own verdict stays beside it. A later run never overwrites a decision, but when
    -- the machine's value of a reviewed rule is no longer the one the person saw, the order is flagged for a
    -- second look.
    select
        rules.*,
        rules.branch_ok and coalesce(rules.attempts_ok, true) and rules.gap_ok
            and coalesce(rules.outcome_ok, true) and rules.duplicate_ok as machine_compliant,
        coalesce(reviews.branch_ok, rules.branch_ok) as decided_branch_ok,
        coalesce(reviews.attempts_ok, rules.attempts_ok) as decided_attempts_ok,
        coalesce(reviews.gap_ok, rules.gap_ok) as decided_gap_ok,
        coalesce(reviews.outcome_ok, rules.outcome_ok) as decided_outcome_ok,
        coalesce(reviews.duplicate_ok, rules.duplicate_ok) as decided_duplicate_ok,
        coalesce(reviews.last_reviewer, 'machine') as decided_by,
        reviews.last_reviewed_at as decided_at,
        coalesce(
            (reviews.has_branch_review and reviews.machine_branch_ok_at_review is distinct from rules.branch_ok)
            or (reviews.has_attempts_review
                and reviews.machine_attempts_ok_at_review is distinct from rules.attempts_ok)
            or (reviews.has_gap_review and reviews.machine_gap_ok_at_review is distinct from rules.gap_ok)
            or (reviews.has_outcome_review
                and reviews.machine_outcome_ok_at_review is distinct from rules.outcome_ok)
            or (reviews.has_duplicates_review
                and reviews.machine_duplicate_ok_at_review is distinct from rules.duplicate_ok),
            false
        ) as is_second_look_needed

    from rules
    left join reviews
        on rules.order_key = reviews.order_key

),

flagged as (

    -- weak evidence is never a verdict: a person decides rule 4, told why; so is a motif no rule knows
    -- (rules 1-3 apply with at least 1 attempt, but nothing says which outcome the motif needs). A call
    -- record of the client quarantined in the window sends the order to a person too, until one has
    -- decided the rules it leaves open: the machine judged the loaded calls only
    select
        *,
        decided_outcome_ok is null and (weak_attempts > 0 or motif_key is null) as is_outcome_weak,
        quarantined_call_records > 0
            and (decided_by = 'machine' or decided_attempts_ok is null or decided_outcome_ok is null)
            as has_unseen_calls

    from decided

),

verdicts as (

    select
        order_key,
        order_id,
        order_type,
        offer,
        motif,
        motif_key,
        client_pseudonym,
        ordered_on,
        suspended_on,
        expected_branch,
        attempts,
        counted_attempts,
        min_attempts,
        first_attempt_at,
        last_attempt_at,
        min_gap_minutes,
        decided_branch_ok as is_branch_ok,
        decided_attempts_ok as is_attempts_ok,
        decided_gap_ok as is_gap_ok,
        decided_outcome_ok as is_outcome_ok,
        decided_duplicate_ok as is_duplicate_ok,
        decided_outcome_ok is not null as is_outcome_evaluated,
        is_outcome_weak or has_unseen_calls as is_review_needed,
        case
            when is_outcome_weak or has_unseen_calls then
                concat_ws(
                    '; ',
                    case
                        when is_outcome_weak and motif_key is null then
                            'motif ''' || coalesce(motif, '') || ''' matches no rule of motif_rules: '
                            || 'rule 4 cannot be checked'
                    end,
                    case when is_outcome_weak and weak_attempts > 0 then weak_evidence end,
                    case when has_unseen_calls then quarantined_calls_note end
                )
        end as review_reason,
        untrusted_attempts,
        quarantined_call_records,
        decided_branch_ok and coalesce(decided_attempts_ok, true) and decided_gap_ok
            and coalesce(decided_outcome_ok, true) and decided_duplicate_ok as is_compliant,
        machine_compliant as is_machine_compliant,
        branch_ok as is_machine_branch_ok,
        attempts_ok as is_machine_attempts_ok,
        gap_ok as is_machine_gap_ok,
        outcome_ok as is_machine_outcome_ok,
        duplicate_ok as is_machine_duplicate_ok,
        decided_by,
        decided_at,
        is_second_look_needed,
        array_remove(
            array[
                case when not decided_branch_ok then 'branch' end,
                case when not decided_attempts_ok then 'attempts' end,
                case when not decided_gap_ok then 'gap' end,
                case when decided_outcome_ok = false then 'outcome' end
            ],
            null
        )::text[] || case when decided_duplicate_ok then '{}' else duplicate_notes::text[] end as reasons,
        listed_times,
        source_file,
        file_date as listed_on

    from flagged

),

final as (

    select
        *,
        array_to_string(reasons, ', ') as reasons_text

    from verdicts

)

select * from final
