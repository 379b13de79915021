with

products as (

    select shop, product_id, variants from {{ ref('stg_shopify__products') }}

),

unnested as (

    select
        products.shop,
        products.product_id,
        item.variant
    from products
    cross join lateral jsonb_array_elements(products.variants) as item (variant)

),

renamed as (

    select
        -- ids
        shop,
        variant ->> 'id' as variant_id,
        product_id,
        variant ->> 'inventory_item_id' as inventory_item_id,

        -- text
        variant ->> 'title' as title,
        variant ->> 'sku' as sku,
        variant ->> 'unit_cost_currency' as unit_cost_currency,

        -- numerics
        (variant ->> 'price')::numeric as price,
        (variant ->> 'compare_at_price')::numeric as compare_at_price,
        (variant ->> 'unit_cost')::numeric as unit_cost,

        -- timestamps (UTC)
        {{ iso_to_utc("variant ->> 'created_at'") }} as created_at,
        {{ iso_to_utc("variant ->> 'updated_at'") }} as updated_at

    from unnested

)

select * from renamed
