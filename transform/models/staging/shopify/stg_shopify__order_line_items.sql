with

orders as (

    select shop, order_id, updated_at, loaded_at, line_items from {{ ref('stg_shopify__orders') }}

),

unnested as (

    select
        orders.shop,
        orders.order_id,
        orders.updated_at as order_updated_at,
        orders.loaded_at as order_loaded_at,
        item.position,
        item.line_item
    from orders
    cross join lateral jsonb_array_elements(orders.line_items)
        with ordinality as item (line_item, position)

),

renamed as (

    select
        -- ids
        shop,
        order_id,
        line_item ->> 'id' as line_item_id,
        line_item ->> 'variant_id' as variant_id,
        line_item ->> 'product_id' as product_id,
        position::integer as line_position,
        -- the order's update time: lets incremental models filter before unnesting
        order_updated_at,
        order_loaded_at,

        -- text
        line_item ->> 'sku' as sku,
        line_item ->> 'title' as title,

        -- numerics
        (line_item ->> 'quantity')::integer as quantity,
        (line_item ->> 'original_unit_price')::numeric as original_unit_price,
        (line_item ->> 'original_unit_price_presentment')::numeric as original_unit_price_presentment,
        coalesce((line_item ->> 'total_discount')::numeric, 0) as total_discount,
        (line_item ->> 'total_discount_presentment')::numeric as total_discount_presentment,
        coalesce((line_item ->> 'tax')::numeric, 0) as tax,
        (line_item ->> 'tax_presentment')::numeric as tax_presentment,

        -- booleans
        coalesce((line_item ->> 'is_gift_card')::boolean, false) as is_gift_card,
        coalesce((line_item ->> 'requires_shipping')::boolean, true) as requires_shipping

    from unnested

)

select * from renamed
