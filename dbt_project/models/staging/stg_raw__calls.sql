with

source as (

    select * from {{ source('raw', 'calls') }}

),

renamed as (

    select
        call_id,
        branch,
        caller_number,
        client_number,
        start_time as started_at,
        duration_s::numeric(10, 2) as duration_s,
        audio_path,
        source_path as source_file,
        loaded_at

    from source

)

select * from renamed
