{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['shop', 'order_id'],
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['shop', 'order_id'], 'unique': True}, {'columns': ['built_at']}],
    )
}}

{#- One row per non-test order with every figure booked on its own day: its sales
    (int_shopify__order_sales) and its shipping and handling costs. Shipping: the matched,
    non-voided labels; an order without one that has units to ship gets the
    `shipping_cost_rules` estimate. Handling: the `handling_costs` seed. A cancelled order
    that never shipped (no label, nothing fulfilled) gets neither: nobody packed it.

    A table, incremental by order, read by profit_daily, orders_profit and shipping_costs:
    a run recomputes the orders whose sales or labels were built since its last build. -#}

{%- set since = built_since() %}

with

{% if since %}
changed_orders as (

    {{ changed_orders(since, ['int_shopify__order_sales', 'int_shipping__labels']) }}

),
{% endif %}

orders as (

    select {{ star_except(ref('int_shopify__order_sales'), ['built_at'], 'order_sales') }}
    from {{ ref('int_shopify__order_sales') }} as order_sales
    {%- if since %}
    where (order_sales.shop, order_sales.order_id) in (select shop, order_id from changed_orders)
    {%- endif %}

),

labels as (

    select
        shop,
        order_id,
        count(*) as labels,
        sum(label_cost_shop_currency) as label_cost,
        sum(insurance_cost_shop_currency) as insurance_cost,
        sum(other_fees_shop_currency) as other_fees,
        sum(total_cost_shop_currency) as total_cost
    from {{ ref('int_shipping__labels') }}
    where not is_voided
        and order_id is not null
        {%- if since %}
        and (shop, order_id) in (select shop, order_id from changed_orders)
        {%- endif %}
    group by shop, order_id

),

rules as (

    select * from {{ ref('shipping_cost_rules') }}

),

handling as (

    select * from {{ ref('handling_costs') }}

),

costed as (

    select
        orders.*,
        coalesce(labels.labels, 0) as labels,
        labels.label_cost,
        labels.insurance_cost,
        labels.other_fees,
        labels.total_cost as label_total_cost,
        case
            when orders.shippable_units > 0 and not never_shipped.flag
                then estimate.per_order + estimate.per_item * orders.shippable_units
        end as estimated_shipping_cost,
        case
            when never_shipped.flag then 0
            else coalesce(handling_rate.per_order, 0) + coalesce(handling_rate.per_item, 0) * orders.units
        end as handling
    from orders
    left join labels
        on labels.shop = orders.shop
        and labels.order_id = orders.order_id
    -- A cancelled order that never shipped (no label, nothing fulfilled) was never packed.
    cross join lateral (
        select orders.is_cancelled
            and labels.labels is null
            and coalesce(orders.fulfillment_status, '') not in ('FULFILLED', 'PARTIALLY_FULFILLED') as flag
    ) as never_shipped
    left join lateral (
        select rules.per_order, rules.per_item
        from rules
        where {{ seed_applies_to('rules', 'orders.shop') }}
            and (rules.country_code = orders.shipping_country or rules.country_code = '*')
            and rules.valid_from <= orders.processed_date
        order by (rules.country_code = '*'), {{ seed_precedence('rules') }}
        limit 1
    ) as estimate on true
    left join lateral (
        select handling.per_order, handling.per_item
        from handling
        where {{ seed_applies_to('handling', 'orders.shop') }}
            and handling.valid_from <= orders.processed_date
        order by {{ seed_precedence('handling') }}
        limit 1
    ) as handling_rate on true

),

final as (

    select
        *,
        case
            when labels > 0 then 'labels'
            when estimated_shipping_cost is not null then 'shipping_cost_rules'
            else 'none'
        end as shipping_cost_source,
        case
            when labels > 0 then label_total_cost
            else coalesce(estimated_shipping_cost, 0)
        end as shipping_costs,
        {{ built_at() }} as built_at
    from costed

)

select * from final
