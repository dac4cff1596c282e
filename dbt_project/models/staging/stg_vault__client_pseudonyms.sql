-- The customers' keyed pseudonyms (warehouse/pseudonyms.py writes them before each build): the one place the
-- marts get a customer's identity from. Staging is the pipeline's schema: analysts never read this view.

with

source as (

    select * from {{ source('vault', 'client_pseudonyms') }}

),

renamed as (

    select
        client_number,
        pseudonym as client_pseudonym,
        key_id as pseudonym_key_id

    from source

)

select * from renamed
