{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['shop', 'order_id'],
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['shop', 'order_id']}, {'columns': ['order_loaded_at']}],
    )
}}

{#- Line items of non-test orders with their report figures on the order's day. Gift
    cards are a liability, not a sale: their lines carry 0 in every figure. The unit cost
    is the merchant override valid on the order's day, else the variant's synced cost.

    A table, incremental by order: unnesting jsonb and looking costs up is the heaviest
    step, and an order's lines only change when the order is updated (and loaded again). A
    run replaces the lines of the orders loaded since the newest load built. -#}

{%- set since = loaded_since('order_loaded_at') %}

with

line_items as (

    select * from {{ ref('stg_shopify__order_line_items') }}
    {%- if since %}
    where order_loaded_at > {{ since }}
    {%- endif %}

),

orders as (

    select shop, order_id, processed_date from {{ ref('stg_shopify__orders') }}
    {%- if since %}
    where loaded_at > {{ since }}
    {%- endif %}

),

variants as (

    select shop, variant_id, unit_cost from {{ ref('stg_shopify__product_variants') }}

),

overrides as (

    select
        shop,
        case
            when variant_id ~ '^[0-9]+$' then 'gid://shopify/ProductVariant/' || variant_id
            else variant_id
        end as variant_id,
        valid_from,
        unit_cost
    from {{ ref('product_cost_overrides') }}

),

costed as (

    select
        line_items.*,
        orders.processed_date,
        coalesce(override.unit_cost, variants.unit_cost) as unit_cost,
        case
            when override.unit_cost is not null then 'product_cost_overrides'
            when variants.unit_cost is not null then 'shopify'
            else 'missing'
        end as unit_cost_source
    from line_items
    inner join orders
        on orders.shop = line_items.shop
        and orders.order_id = line_items.order_id
    left join variants
        on variants.shop = line_items.shop
        and variants.variant_id = line_items.variant_id
    left join lateral (
        select overrides.unit_cost
        from overrides
        where {{ seed_applies_to('overrides', 'line_items.shop') }}
            and overrides.variant_id = line_items.variant_id
            and overrides.valid_from <= orders.processed_date
        order by {{ seed_precedence('overrides') }}
        limit 1
    ) as override on true

),

final as (

    select
        *,
        case when is_gift_card then 0 else quantity end as units,
        case when is_gift_card or not requires_shipping then 0 else quantity end as shippable_units,
        case when is_gift_card then 0 else original_unit_price * quantity end as gross_sales,
        case when is_gift_card then 0 else total_discount end as discounts,
        case when is_gift_card then 0 else tax end as taxes,
        case when is_gift_card then 0 else quantity * coalesce(unit_cost, 0) end as cogs
    from costed

)

select * from final
