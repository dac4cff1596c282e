with

source as (

    select * from {{ source('raw', 'classifications') }}

),

renamed as (

    select
        sha256 as audio_sha256,
        model as classifier_model,
        prompt_version,
        request_key as llm_request_key,
        call_type,
        behavior,
        sentiment,
        summary as summary_redacted,
        action_items,
        is_trusted as is_classification_trusted,
        call_type_confidence,
        created_at as classified_at

    from source

)

select * from renamed
