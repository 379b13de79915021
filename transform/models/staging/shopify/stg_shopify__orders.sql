{#- One row per non-test order. Keeps the nested arrays (jsonb) for the unnesting models
    downstream, and the shop's time zone so that they can date their own events. -#}
with

source as (

    select * from {{ bloom_source('shopify', 'orders') }}

),

shops as (

    select shop, iana_timezone from {{ ref('stg_shopify__shop') }}

),

renamed as (

    select
        -- ids
        source.shop::text as shop,
        source.id::text as order_id,
        source.customer_id::text as customer_id,
        source.number::bigint as order_number,

        -- text
        source.name::text as order_name,
        source.email_hash::text as email_hash,
        source.cancel_reason::text as cancel_reason,
        source.financial_status::text as financial_status,
        source.fulfillment_status::text as fulfillment_status,
        source.currency::text as currency,
        source.presentment_currency::text as presentment_currency,
        source.source_name::text as source_name,
        coalesce(nullif(source.channel::text, ''), source.source_name::text) as channel,
        source.shipping_country::text as shipping_country,
        {{ as_jsonb_array('source.tags') }} as tags,

        -- numerics (shop money unless `_presentment`)
        source.subtotal::numeric as subtotal,
        source.subtotal_presentment::numeric as subtotal_presentment,
        source.total_discounts::numeric as total_discounts,
        source.total_discounts_presentment::numeric as total_discounts_presentment,
        source.total_shipping::numeric as total_shipping,
        source.total_shipping_presentment::numeric as total_shipping_presentment,
        source.total_tax::numeric as total_tax,
        source.total_tax_presentment::numeric as total_tax_presentment,
        source.total_price::numeric as total_price,
        source.total_price_presentment::numeric as total_price_presentment,
        source.total_refunded::numeric as total_refunded,
        source.total_refunded_presentment::numeric as total_refunded_presentment,

        -- booleans
        coalesce(source.test::boolean, false) as is_test,
        source.cancelled_at is not null as is_cancelled,

        -- timestamps (UTC) and shop-local days
        source.created_at::timestamp as created_at,
        source.processed_at::timestamp as processed_at,
        source.updated_at::timestamp as updated_at,
        source.cancelled_at::timestamp as cancelled_at,
        source._sdc_batched_at::timestamp as loaded_at,
        source.closed_at::timestamp as closed_at,
        shops.iana_timezone as shop_timezone,
        {{ local_date('source.processed_at::timestamp', 'shops.iana_timezone') }} as processed_date,

        -- nested arrays, unnested by stg_shopify__order_line_items / _shipping_lines / _refunds
        {{ as_jsonb_array('source.line_items') }} as line_items,
        {{ as_jsonb_array('source.shipping_lines') }} as shipping_lines,
        {{ as_jsonb_array('source.refunds') }} as refunds

    from source
    left join shops on shops.shop = source.shop::text

)

select * from renamed
-- Test orders are excluded from every report (DEFINITIONS.md), so they stop here.
where not is_test
