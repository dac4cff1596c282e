-- Order ↔ call matching: an order's attempts are the calls to its client number from ordered_on 00:00
-- to the end of suspended_on, in the deployment's time zone.

with

orders as (

    select * from {{ ref('int_orders_deduplicated') }}

),

calls as (

    select * from {{ ref('stg_raw__calls') }}

),

calls_local as (

    select
        *,
        started_at at time zone '{{ var("timezone") }}' as started_at_local

    from calls

),

matched as (

    select
        orders.order_key,
        orders.order_id,
        orders.order_type,
        orders.offer,
        orders.expected_branch,
        calls_local.call_id,
        calls_local.branch,
        calls_local.caller_number,
        calls_local.started_at,
        calls_local.started_at_local,
        calls_local.duration_s,
        calls_local.audio_path

    from orders
    inner join calls_local
        on calls_local.client_number = orders.client_number
        and {{ in_attempt_window('calls_local.started_at', 'orders') }}

)

select * from matched
