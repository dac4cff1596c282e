with

source as (

    select * from {{ source('raw', 'current_classifications') }}

),

renamed as (

    select
        sha256 as audio_sha256,
        model as classifier_model,
        prompt_version

    from source

)

select * from renamed
