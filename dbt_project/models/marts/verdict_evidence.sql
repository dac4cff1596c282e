-- The proof behind every failed rule: one row per (order, failed rule, call) that shows it, with the seconds
-- of the recording to listen to and, for rule 4, the redacted words heard. A failed rule always has a row:
-- when no call can show it (no attempt at all, or a person decided it against the machine), the row has no
-- call and says so. What a person decided stands (order_compliance's rules are the decided ones).

with

verdicts as (

    select * from {{ ref('order_compliance') }}

),

attempts as (

    select * from {{ ref('call_attempts') }}

),

orders as (

    select * from {{ ref('int_orders_deduplicated') }}

),

call_types as (

    select * from {{ ref('call_types') }}

),

speech_segments as (

    select * from {{ ref('int_speech_segments_latest') }}

),

speech_spans as (

    -- where the voices are in each recording: the part of the call to listen to
    select
        audio_sha256,
        min(speech_start_s) as speech_start_s,
        max(speech_end_s) as speech_end_s

    from speech_segments
    group by audio_sha256

),

failed_rules as (

    select
        verdicts.order_key,
        verdicts.order_id,
        verdicts.motif_key,
        verdicts.decided_by,
        verdicts.attempts,
        verdicts.counted_attempts,
        verdicts.min_attempts,
        orders.expected_call_type,
        failed.rule

    from verdicts
    inner join orders
        on verdicts.order_key = orders.order_key
    cross join lateral (
        values
            ('branch', not verdicts.is_branch_ok),
            ('attempts', not verdicts.is_attempts_ok),
            ('gap', not verdicts.is_gap_ok),
            ('outcome', verdicts.is_outcome_ok = false),
            ('duplicate', not verdicts.is_duplicate_ok)
    ) as failed (rule, has_failed)
    where failed.has_failed

),

heard as (

    select
        attempts.*,
        lag(attempts.call_id) over (
            partition by attempts.order_key order by attempts.attempt_number
        ) as previous_call_id,
        call_types.call_type_label,
        speech_spans.speech_start_s,
        speech_spans.speech_end_s,
        attempts.outcome = 'answered' and attempts.is_classification_trusted
            and attempts.call_type between 1 and 4 as is_conversation

    from attempts
    left join call_types
        on attempts.call_type = call_types.call_type
    left join speech_spans
        on attempts.audio_sha256 = speech_spans.audio_sha256

),

call_evidence as (

    select
        failed_rules.order_key,
        failed_rules.rule,
        heard.call_id,
        heard.attempt_number,
        heard.started_at,
        case
            when failed_rules.rule = 'gap' then heard.previous_call_id
            when failed_rules.rule in ('attempts', 'duplicate') then heard.duplicate_of_call_id
        end as related_call_id,
        case when failed_rules.rule = 'outcome' then heard.speech_start_s end as evidence_start_s,
        case when failed_rules.rule = 'outcome' then heard.speech_end_s end as evidence_end_s,
        case failed_rules.rule
            when 'branch' then
                'called from ' || heard.branch || '; the order belongs to ' || heard.expected_branch
            when 'attempts' then
                case
                    when heard.is_duplicate then 'not counted: reuses the recording of call '
                        || heard.duplicate_of_call_id
                    else 'counted'
                end
                || ' (' || failed_rules.counted_attempts || ' counted of ' || failed_rules.min_attempts
                || ' needed)'
            when 'gap' then
                'started ' || to_char(heard.gap_minutes, 'FM999990.00') || ' min after call '
                || heard.previous_call_id || ' (at least ' || {{ var('min_gap_minutes') }} || ')'
            when 'outcome' then
                case
                    when failed_rules.motif_key = 'injoignable' then
                        'a conversation with the customer: ' || heard.call_type_label || ' (p='
                        || coalesce(to_char(heard.call_type_confidence, 'FM0.00'), 'n/a') || ')'
                    when heard.outcome is distinct from 'answered' then
                        'heard as ' || coalesce(heard.outcome, 'not analysed') || ', not a conversation'
                    else
                        'answered, heard as ' || coalesce(heard.call_type_label, 'not classified') || ' (p='
                        || coalesce(to_char(heard.call_type_confidence, 'FM0.00'), 'n/a') || ')'
                end
            when 'duplicate' then
                case heard.duplicate_kind
                    when 'identical' then 'the same recording file as call ' || heard.duplicate_of_call_id
                    else 'the same conversation as call ' || heard.duplicate_of_call_id
                        || ', re-encoded (same tone timeline and speech)'
                end
        end as detail,
        case when failed_rules.rule = 'outcome' then heard.outcome end as heard_outcome,
        case when failed_rules.rule = 'outcome' then heard.transcript_redacted end as transcript_redacted,
        failed_rules.decided_by

    from failed_rules
    inner join heard
        on failed_rules.order_key = heard.order_key
    where case failed_rules.rule
        when 'branch' then not heard.is_expected_branch
        when 'attempts' then true
        when 'gap' then heard.is_gap_ok = false
        -- injoignable: the conversations; another motif: every attempt, none of which shows the motif
        when 'outcome' then failed_rules.motif_key <> 'injoignable' or heard.is_conversation
        when 'duplicate' then heard.is_duplicate
    end

),

order_evidence as (

    -- a failed rule no call shows: no attempt at all, or a person's decision against the machine
    select
        failed_rules.order_key,
        failed_rules.rule,
        null::text as call_id,
        null::integer as attempt_number,
        null::timestamptz as started_at,
        null::text as related_call_id,
        null::double precision as evidence_start_s,
        null::double precision as evidence_end_s,
        case
            when failed_rules.attempts = 0 then
                'no call to the client''s number from the order''s day to its suspension'
                || case when failed_rules.rule = 'attempts' then ' (' || failed_rules.min_attempts
                    || ' needed)' else '' end
            else 'decided by ' || failed_rules.decided_by || ' (ops.reviews)'
        end as detail,
        null::text as heard_outcome,
        null::text as transcript_redacted,
        failed_rules.decided_by

    from failed_rules
    where not exists (
        select 1 from call_evidence
        where call_evidence.order_key = failed_rules.order_key
            and call_evidence.rule = failed_rules.rule
    )

),

final as (

    select
        verdicts.order_key || '|' || evidence.rule || '|' || coalesce(evidence.call_id, '-') as evidence_key,
        verdicts.order_key,
        verdicts.order_id,
        verdicts.motif,
        evidence.rule,
        evidence.call_id,
        evidence.attempt_number,
        evidence.started_at,
        evidence.related_call_id,
        evidence.evidence_start_s,
        evidence.evidence_end_s,
        evidence.detail,
        evidence.heard_outcome,
        evidence.transcript_redacted,
        evidence.decided_by,
        evidence.decided_by <> 'machine' as is_decided_by_person

    from (
        select * from call_evidence
        union all
        select * from order_evidence
    ) as evidence
    inner join verdicts
        on evidence.order_key = verdicts.order_key

)

select * from final
