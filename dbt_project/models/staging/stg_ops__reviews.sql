with

source as (

    select * from {{ source('ops', 'reviews') }}

),

renamed as (

    select
        review_id,
        order_type || ':' || order_id as order_key,
        order_type,
        order_id,
        rule,
        decision,
        reason,
        reviewer,
        reviewed_at,
        machine_ok as machine_ok_at_review,
        machine_verdict

    from source

)

select * from renamed
