{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['shop', 'order_id'],
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['shop', 'order_id']}, {'columns': ['order_loaded_at']}, {'columns': ['built_at']}],
    )
}}

{#- Refund line items with their figures on the refund's day. Goods restocked (`RETURN`,
    `CANCEL`) stop being a cost at the unit cost booked on their order line; gift-card
    lines carry 0 (they were never a sale).

    A table, incremental by order like int_shopify__order_lines: a refund updates its
    order, so a run replaces the refund lines of the orders loaded since the newest load
    built, and of the orders whose lines were costed again since its last build. -#}

{%- set since = loaded_since('order_loaded_at') if built_has_column('returns_without_cost') else none %}
{%- set recosted = recosted_orders(ref('int_shopify__order_lines'), since, built_since()) %}

with

refund_line_items as (

    select * from {{ ref('stg_shopify__refund_line_items') }}
    {%- if since %}
    where order_loaded_at > {{ since }}{{ " or " ~ recosted if recosted else "" }}
    {%- endif %}

),

refunds as (

    select shop, order_id, refund_id, processed_date from {{ ref('stg_shopify__refunds') }}
    {%- if since %}
    where order_loaded_at > {{ since }}{{ " or " ~ recosted if recosted else "" }}
    {%- endif %}

),

order_lines as (

    select shop, order_id, line_item_id, variant_id, product_id, is_gift_card, unit_cost
    from {{ ref('int_shopify__order_lines') }}
    {%- if since %}
    where order_loaded_at > {{ since }}{{ " or " ~ recosted if recosted else "" }}
    {%- endif %}

),

joined as (

    select
        refund_line_items.*,
        refunds.processed_date,
        order_lines.variant_id,
        order_lines.product_id,
        coalesce(order_lines.is_gift_card, false) as is_gift_card,
        order_lines.unit_cost
    from refund_line_items
    inner join refunds
        on refunds.shop = refund_line_items.shop
        and refunds.order_id = refund_line_items.order_id
        and refunds.refund_id = refund_line_items.refund_id
    left join order_lines
        on order_lines.shop = refund_line_items.shop
        and order_lines.order_id = refund_line_items.order_id
        and order_lines.line_item_id = refund_line_items.line_item_id

),

final as (

    select
        *,
        case when is_gift_card then 0 else quantity end as units_returned,
        case when is_gift_card then 0 else subtotal end as returns,
        case when is_gift_card then 0 else total_tax end as taxes_refunded,
        case
            when not is_gift_card and restock_type in ('RETURN', 'CANCEL')
                then quantity * coalesce(unit_cost, 0)
            else 0
        end as cogs_reversed,
        case when is_gift_card or unit_cost is not null then 0 else subtotal end as returns_without_cost,
        {{ built_at() }} as built_at
    from joined

)

select * from final
