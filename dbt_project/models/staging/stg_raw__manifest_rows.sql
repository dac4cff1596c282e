with

source as (

    select * from {{ source('raw', 'manifest_rows') }}

),

renamed as (

    select
        source_path as source_file,
        row_number as source_row,
        order_type,
        offer,
        file_date,
        order_id,
        client_number,
        ordered_on,
        suspended_on,
        status,
        motif,
        offer_label,
        loaded_at

    from source

)

select * from renamed
