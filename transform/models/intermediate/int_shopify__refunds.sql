{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['shop', 'order_id'],
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['shop', 'order_id']}, {'columns': ['built_at']}],
    )
}}

{#- One row per refund with what it takes back, booked on the refund's own day. A table,
    incremental by order like int_shopify__refund_lines (a refund updates its order):
    a run replaces the refunds of the orders loaded since the newest load built, and of
    the orders whose lines were costed again since its last build. -#}

{%- set since = loaded_since('order_loaded_at') if built_has_column('returns_without_cost') else none %}
{%- set recosted = recosted_orders(ref('int_shopify__refund_lines'), since, built_since()) %}

with

refunds as (

    select * from {{ ref('stg_shopify__refunds') }}
    {%- if since %}
    where order_loaded_at > {{ since }}{{ " or " ~ recosted if recosted else "" }}
    {%- endif %}

),

refund_lines as (

    select
        shop,
        order_id,
        refund_id,
        sum(units_returned) as units_returned,
        sum(returns) as returns,
        sum(taxes_refunded) as line_taxes_refunded,
        sum(cogs_reversed) as cogs_reversed,
        sum(returns_without_cost) as returns_without_cost
    from {{ ref('int_shopify__refund_lines') }}
    {%- if since %}
    where order_loaded_at > {{ since }}{{ " or " ~ recosted if recosted else "" }}
    {%- endif %}
    group by shop, order_id, refund_id

),

final as (

    select
        refunds.shop,
        refunds.order_id,
        refunds.refund_id,
        refunds.order_updated_at,
        refunds.order_loaded_at,
        refunds.processed_at,
        refunds.processed_date,
        coalesce(refund_lines.units_returned, 0) as units_returned,
        coalesce(refund_lines.returns, 0) as returns,
        refunds.shipping_subtotal as shipping_refunded,
        coalesce(refund_lines.line_taxes_refunded, 0) + refunds.shipping_tax as taxes_refunded,
        coalesce(refund_lines.cogs_reversed, 0) as cogs_reversed,
        coalesce(refund_lines.returns_without_cost, 0) as returns_without_cost,
        {{ built_at() }} as built_at
    from refunds
    left join refund_lines
        on refund_lines.shop = refunds.shop
        and refund_lines.order_id = refunds.order_id
        and refund_lines.refund_id = refunds.refund_id

)

select * from final
