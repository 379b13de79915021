with

orders as (

    select shop, order_id, updated_at, loaded_at, shipping_lines from {{ ref('stg_shopify__orders') }}

),

unnested as (

    select
        orders.shop,
        orders.order_id,
        orders.updated_at as order_updated_at,
        orders.loaded_at as order_loaded_at,
        line.position,
        line.shipping_line
    from orders
    cross join lateral jsonb_array_elements(orders.shipping_lines)
        with ordinality as line (shipping_line, position)

),

renamed as (

    select
        -- ids
        shop,
        order_id,
        shipping_line ->> 'id' as shipping_line_id,
        position::integer as line_position,
        -- the order's update time: lets incremental models filter before unnesting
        order_updated_at,
        order_loaded_at,

        -- text
        shipping_line ->> 'title' as title,
        shipping_line ->> 'code' as code,

        -- numerics
        coalesce((shipping_line ->> 'original_price')::numeric, 0) as original_price,
        (shipping_line ->> 'original_price_presentment')::numeric as original_price_presentment,
        coalesce((shipping_line ->> 'discounted_price')::numeric, 0) as discounted_price,
        (shipping_line ->> 'discounted_price_presentment')::numeric as discounted_price_presentment,
        coalesce((shipping_line ->> 'tax')::numeric, 0) as tax,
        (shipping_line ->> 'tax_presentment')::numeric as tax_presentment

    from unnested

)

select * from renamed
