{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['shop', 'order_id'],
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['shop', 'order_id']}, {'columns': ['order_loaded_at']}, {'columns': ['built_at']}],
    )
}}

{#- Line items of non-test orders with their report figures on the order's day. Gift
    cards are a liability, not a sale: their lines carry 0 in every figure. The unit cost
    is the merchant override valid on the order's day, else the variant's synced cost when
    the order was processed (int_shopify__variant_costs).

    A table, incremental by order: unnesting jsonb and looking costs up is the heaviest
    step, and an order's lines only change when the order is updated (and loaded again) or
    when a cost seen since this table's last build applies to them. A run replaces the
    lines of the orders loaded since the newest load built, and costs again, from the lines
    already built, the orders a newly seen cost version covers. A table built before
    its newest column existed is rebuilt whole once. -#}

{%- set since = loaded_since('order_loaded_at') if built_has_column('net_sales_without_cost') else none %}
{%- set built = built_since() if since else none %}
{%- set costs = ref('int_shopify__variant_costs') %}
{%- set recosting = built and query_exists("select 1 from " ~ costs ~ " where observed_at > " ~ built) %}

with

line_items as (

    select * from {{ ref('stg_shopify__order_line_items') }}
    {%- if since %}
    where order_loaded_at > {{ since }}
    {%- endif %}

),

orders as (

    select shop, order_id, processed_at, processed_date from {{ ref('stg_shopify__orders') }}
    {%- if since %}
    where loaded_at > {{ since }}
    {%- endif %}

),

lines as (

    select
        line_items.*,
        orders.processed_at,
        orders.processed_date
    from line_items
    inner join orders
        on orders.shop = line_items.shop
        and orders.order_id = line_items.order_id
    {%- if recosting %}

    union all

    -- Every line of the orders built before that a cost version seen since covers.
    select
        {{ star_except(ref('stg_shopify__order_line_items'), [], 'built') }},
        built.processed_at,
        built.processed_date
    from {{ this }} as built
    where (built.shop, built.order_id) in (
        select lines.shop, lines.order_id
        from {{ this }} as lines
        inner join {{ costs }} as costs
            on costs.shop = lines.shop
            and costs.variant_id = lines.variant_id
        where costs.observed_at > {{ built }}
            and lines.processed_at >= costs.valid_from
        except
        select shop, order_id from orders
    )
    {%- endif %}

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
        lines.*,
        coalesce(override.unit_cost, costs.unit_cost) as unit_cost,
        case
            when override.unit_cost is not null then 'product_cost_overrides'
            when costs.unit_cost is not null then 'shopify'
            else 'missing'
        end as unit_cost_source
    from lines
    left join {{ costs }} as costs
        on costs.shop = lines.shop
        and costs.variant_id = lines.variant_id
        and lines.processed_at >= costs.valid_from
        and lines.processed_at < costs.valid_to
    left join lateral (
        select overrides.unit_cost
        from overrides
        where {{ seed_applies_to('overrides', 'lines.shop') }}
            and overrides.variant_id = lines.variant_id
            and overrides.valid_from <= lines.processed_date
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
        case when is_gift_card then 0 else quantity * coalesce(unit_cost, 0) end as cogs,
        case when is_gift_card or unit_cost is not null then 0 else quantity end as units_without_cost,
        case
            when is_gift_card or unit_cost is not null then 0
            else original_unit_price * quantity - total_discount
        end as net_sales_without_cost,
        {{ built_at() }} as built_at
    from costed

)

select * from final
