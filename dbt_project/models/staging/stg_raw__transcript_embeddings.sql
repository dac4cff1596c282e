with

source as (

    select * from {{ source('raw', 'transcript_embeddings') }}

),

renamed as (

    select
        sha256 as audio_sha256,
        model as embedding_model,
        text_hash as transcript_text_hash,
        dimension as embedding_dimension,
        embedding,
        created_at as embedded_at

    from source

)

select * from renamed
