with

refunds as (

    select shop, order_id, order_updated_at, order_loaded_at, refund_id, refund_line_items from {{ ref('stg_shopify__refunds') }}

),

unnested as (

    select
        refunds.shop,
        refunds.order_id,
        refunds.order_updated_at,
        refunds.order_loaded_at,
        refunds.refund_id,
        item.refund_line_item
    from refunds
    cross join lateral jsonb_array_elements(refunds.refund_line_items) as item (refund_line_item)

),

renamed as (

    select
        -- ids
        shop,
        order_id,
        refund_id,
        refund_line_item ->> 'id' as refund_line_item_id,
        order_updated_at,
        order_loaded_at,
        refund_line_item ->> 'line_item_id' as line_item_id,

        -- text
        upper(refund_line_item ->> 'restock_type') as restock_type,

        -- numerics
        coalesce((refund_line_item ->> 'quantity')::integer, 0) as quantity,
        coalesce((refund_line_item ->> 'subtotal')::numeric, 0) as subtotal,
        (refund_line_item ->> 'subtotal_presentment')::numeric as subtotal_presentment,
        coalesce((refund_line_item ->> 'total_tax')::numeric, 0) as total_tax,
        (refund_line_item ->> 'total_tax_presentment')::numeric as total_tax_presentment

    from unnested

)

select * from renamed
