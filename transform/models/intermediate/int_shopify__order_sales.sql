{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['shop', 'order_id'],
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['shop', 'order_id'], 'unique': True}, {'columns': ['order_loaded_at']}, {'columns': ['built_at']}],
    )
}}

{#- One row per non-test order with its sales figures on its own (processed) day.

    A table, incremental by order like int_shopify__order_lines: a run replaces the orders
    loaded since the newest load built (and those whose lines were costed again since its
    last build) and stamps them `built_at`, so that the models downstream look their
    changed orders up instead of aggregating every line again. -#}

{%- set since = loaded_since('order_loaded_at') if built_has_column('fulfillment_status') else none %}
{%- set recosted = recosted_orders(ref('int_shopify__order_lines'), since, built_since()) %}

with

orders as (

    select * from {{ ref('stg_shopify__orders') }}
    {%- if since %}
    where loaded_at > {{ since }}{{ " or " ~ recosted if recosted else "" }}
    {%- endif %}

),

lines as (

    select
        shop,
        order_id,
        sum(units) as units,
        sum(shippable_units) as shippable_units,
        sum(gross_sales) as gross_sales,
        sum(discounts) as discounts,
        sum(taxes) as line_taxes,
        sum(cogs) as cogs,
        sum(units_without_cost) as units_without_cost,
        sum(net_sales_without_cost) as net_sales_without_cost
    from {{ ref('int_shopify__order_lines') }}
    {%- if since %}
    where order_loaded_at > {{ since }}{{ " or " ~ recosted if recosted else "" }}
    {%- endif %}
    group by shop, order_id

),

shipping_lines as (

    select
        shop,
        order_id,
        sum(discounted_price) as shipping_charged,
        sum(tax) as shipping_taxes
    from {{ ref('stg_shopify__order_shipping_lines') }}
    {%- if since %}
    where order_loaded_at > {{ since }}{{ " or " ~ recosted if recosted else "" }}
    {%- endif %}
    group by shop, order_id

),

final as (

    select
        orders.shop,
        orders.order_id,
        orders.order_name,
        orders.customer_id,
        orders.processed_at,
        orders.processed_date,
        orders.updated_at,
        orders.cancelled_at,
        orders.is_cancelled,
        orders.fulfillment_status,
        orders.source_name,
        orders.channel,
        orders.shipping_country,
        orders.currency,
        coalesce(lines.units, 0) as units,
        coalesce(lines.shippable_units, 0) as shippable_units,
        coalesce(lines.gross_sales, 0) as gross_sales,
        coalesce(lines.discounts, 0) as discounts,
        coalesce(shipping_lines.shipping_charged, 0) as shipping_charged,
        coalesce(lines.line_taxes, 0) + coalesce(shipping_lines.shipping_taxes, 0) as taxes,
        coalesce(lines.cogs, 0) as cogs,
        coalesce(lines.units_without_cost, 0) as units_without_cost,
        coalesce(lines.net_sales_without_cost, 0) as net_sales_without_cost,
        orders.loaded_at as order_loaded_at,
        {{ built_at() }} as built_at
    from orders
    left join lines
        on lines.shop = orders.shop
        and lines.order_id = orders.order_id
    left join shipping_lines
        on shipping_lines.shop = orders.shop
        and shipping_lines.order_id = orders.order_id

)

select * from final
