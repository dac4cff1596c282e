-- Per order, the quarantined call records (stg_ops__quarantined_calls) to its client within its attempt
-- window: calls the audit cannot see. A record that is the same call as one loaded (same call_id, client and
-- start, e.g. from an overlapping export) hides nothing and is left out.

with

orders as (

    select * from {{ ref('int_orders_deduplicated') }}

),

quarantined as (

    select * from {{ ref('stg_ops__quarantined_calls') }}

),

calls as (

    select * from {{ ref('stg_raw__calls') }}

),

unseen as (

    select quarantined.*
    from quarantined
    where not exists (
        select 1
        from calls
        where
            calls.call_id = quarantined.call_id
            and calls.client_number = quarantined.client_number
            and calls.started_at = quarantined.started_at
    )

),

matched as (

    select
        orders.order_key,
        unseen.reject_id,
        unseen.call_id,
        unseen.started_at,
        'call record ' || unseen.location || ' of ' || regexp_replace(unseen.source_file, '^.*/', '')
            || ' quarantined (' || unseen.reason || ')' as note

    from orders
    inner join unseen
        on unseen.client_number = orders.client_number
        and {{ in_attempt_window('unseen.started_at', 'orders') }}

),

final as (

    select
        order_key,
        count(*)::integer as quarantined_call_records,
        string_agg(note, '; ' order by started_at, reject_id) as quarantined_calls_note

    from matched
    group by order_key

)

select * from final
