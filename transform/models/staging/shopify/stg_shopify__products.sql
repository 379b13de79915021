with

source as (

    select * from {{ bloom_source('shopify', 'products') }}

),

renamed as (

    select
        -- ids
        shop::text as shop,
        id::text as product_id,

        -- text
        title::text as title,
        vendor::text as vendor,
        product_type::text as product_type,
        status::text as status,

        -- booleans
        coalesce(is_gift_card::boolean, false) as is_gift_card,

        -- timestamps (UTC)
        created_at::timestamp as created_at,
        updated_at::timestamp as updated_at,

        -- nested variants, unnested by stg_shopify__product_variants
        {{ as_jsonb_array('variants') }} as variants

    from source

)

select * from renamed
