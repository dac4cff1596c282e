with

source as (

    select * from {{ source('raw', 'classifications') }}

),

renamed as (

    select
        sha256 as audio_sha256,
        model as classifier_model,
        prompt_version,
        call_type,
        behaviour,
        confidence as classification_confidence,
        created_at as classified_at

    from source

)

select * from renamed
