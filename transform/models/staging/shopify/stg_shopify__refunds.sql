with

orders as (

    select shop, order_id, updated_at, loaded_at, shop_timezone, refunds from {{ ref('stg_shopify__orders') }}

),

unnested as (

    select
        orders.shop,
        orders.order_id,
        orders.updated_at as order_updated_at,
        orders.loaded_at as order_loaded_at,
        orders.shop_timezone,
        item.refund
    from orders
    cross join lateral jsonb_array_elements(orders.refunds) as item (refund)

),

renamed as (

    select
        -- ids
        shop,
        order_id,
        refund ->> 'id' as refund_id,
        -- the order's update time (a refund updates its order): for incremental filters
        order_updated_at,
        order_loaded_at,

        -- text
        refund ->> 'note' as note,

        -- numerics
        (refund ->> 'total_refunded')::numeric as total_refunded,
        (refund ->> 'total_refunded_presentment')::numeric as total_refunded_presentment,
        coalesce((refund ->> 'shipping_subtotal')::numeric, 0) as shipping_subtotal,
        coalesce((refund ->> 'shipping_tax')::numeric, 0) as shipping_tax,

        -- timestamps (UTC) and the shop-local day Shopify books the refund on
        {{ iso_to_utc("refund ->> 'created_at'") }} as created_at,
        coalesce(
            {{ iso_to_utc("refund ->> 'processed_at'") }},
            {{ iso_to_utc("refund ->> 'created_at'") }}
        ) as processed_at,
        shop_timezone,

        -- nested refund line items, unnested by stg_shopify__refund_line_items
        {{ as_jsonb_array("refund -> 'refund_line_items'") }} as refund_line_items

    from unnested

),

dated as (

    select
        *,
        {{ local_date('processed_at', 'shop_timezone') }} as processed_date
    from renamed

)

select * from dated
