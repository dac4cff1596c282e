-- Per technician line and week (Monday of the order's suspension day): the orders counted under the line,
-- how many were compliant and which rules failed, and how the line's answered calls on those orders sounded
-- (talk, the agent's share of it in stereo, silences, interruptions) and how many of their QA items were met
-- (call_qa_items). For the BI scorecard.

with

orders as (

    select * from {{ ref('order_compliance') }}

),

order_lines as (

    select * from {{ ref('int_order_technician_lines') }}

),

attempts as (

    select * from {{ ref('call_attempts') }}

),

conversations as (

    select * from {{ ref('call_conversations') }}

),

qa_items as (

    select * from {{ ref('call_qa_items') }}

),

line_orders as (

    select
        order_lines.technician_line,
        date_trunc('week', orders.suspended_on)::date as week_started_on,
        orders.*

    from orders
    inner join order_lines
        on orders.order_key = order_lines.order_key
    where order_lines.technician_line is not null

),

order_counts as (

    select
        technician_line,
        week_started_on,
        {{ order_rule_counts() }}

    from line_orders
    group by technician_line, week_started_on

),

line_calls as (

    -- the line's own answered calls on the orders it is counted for
    select
        line_orders.technician_line,
        line_orders.week_started_on,
        conversations.*

    from line_orders
    inner join attempts
        on line_orders.order_key = attempts.order_key
        and line_orders.technician_line = attempts.caller_number
    inner join conversations
        on attempts.call_id = conversations.call_id
    where attempts.outcome = 'answered'
        and conversations.has_speech

),

call_measures as (

    select
        technician_line,
        week_started_on,
        count(*)::integer as answered_calls,
        round(avg(talk_s), 1)::numeric(12, 1) as avg_talk_s,
        round(avg(agent_talk_share), 3)::numeric(6, 3) as avg_agent_talk_share,
        round(avg(longest_silence_s), 1)::numeric(12, 1) as avg_longest_silence_s,
        sum(interruptions)::integer as interruptions,
        count(*) filter (where is_stereo)::integer as stereo_calls

    from line_calls
    group by technician_line, week_started_on

),

qa_measures as (

    -- each of the line's answered calls once, however many of its orders it is an attempt of
    select
        line_call_ids.technician_line,
        line_call_ids.week_started_on,
        count(*) filter (where qa_items.is_applicable)::integer as qa_items_applicable,
        count(*) filter (where qa_items.qa_status = 'met')::integer as qa_items_met

    from (select distinct technician_line, week_started_on, call_id from line_calls) as line_call_ids
    inner join qa_items
        on line_call_ids.call_id = qa_items.call_id
    group by line_call_ids.technician_line, line_call_ids.week_started_on

),

final as (

    select
        order_counts.technician_line || '|' || order_counts.week_started_on as scorecard_key,
        order_counts.technician_line,
        order_counts.week_started_on,
        order_counts.orders,
        order_counts.compliant_orders,
        round(100.0 * order_counts.compliant_orders / order_counts.orders, 1)::numeric(5, 1) as compliant_pct,
        order_counts.branch_failed_orders,
        order_counts.attempts_failed_orders,
        order_counts.gap_failed_orders,
        order_counts.outcome_failed_orders,
        order_counts.outcome_pending_orders,
        order_counts.duplicate_orders,
        order_counts.needs_review_orders,
        coalesce(call_measures.answered_calls, 0)::integer as answered_calls,
        call_measures.avg_talk_s,
        call_measures.avg_agent_talk_share,
        call_measures.avg_longest_silence_s,
        call_measures.interruptions,
        coalesce(call_measures.stereo_calls, 0)::integer as stereo_calls,
        coalesce(qa_measures.qa_items_applicable, 0)::integer as qa_items_applicable,
        coalesce(qa_measures.qa_items_met, 0)::integer as qa_items_met,
        round(100.0 * qa_measures.qa_items_met / nullif(qa_measures.qa_items_applicable, 0), 1)::numeric(5, 1)
            as qa_met_pct

    from order_counts
    left join call_measures
        on order_counts.technician_line = call_measures.technician_line
        and order_counts.week_started_on = call_measures.week_started_on
    left join qa_measures
        on order_counts.technician_line = qa_measures.technician_line
        and order_counts.week_started_on = qa_measures.week_started_on

)

select * from final
