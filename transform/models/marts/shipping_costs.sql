{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['shop', 'order_id'],
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['shop', 'order_id'], 'unique': True}, {'columns': ['_built_at']}],
    )
}}

{#- One row per non-test order: what the customer paid for shipping (net of refunded
    shipping) against what shipping cost: synced label costs where labels matched, the
    `shipping_cost_rules` estimate otherwise.

    Incremental by order: a run recomputes the orders rebuilt in orders_profit since its
    last build (which include every order whose figures were). -#}

{%- set since = built_since('_built_at') %}

with

{% if since %}
changed_orders as (

    {{ changed_orders(since, ['orders_profit'], stamp='_built_at') }}

),
{% endif %}

fulfilment as (

    select * from {{ ref('int_orders__figures') }}
    {%- if since %}
    where (shop, order_id) in (select shop, order_id from changed_orders)
    {%- endif %}

),

orders as (

    select shop, order_id, order_name, currency, shipping_charged from {{ ref('orders_profit') }}
    {%- if since %}
    where (shop, order_id) in (select shop, order_id from changed_orders)
    {%- endif %}

),

final as (

    select
        fulfilment.shop,
        fulfilment.order_id,
        orders.order_name,
        fulfilment.processed_date,
        fulfilment.updated_at,
        fulfilment.shipping_country,
        orders.currency,
        fulfilment.shippable_units,
        orders.shipping_charged,
        fulfilment.labels,
        {{ cents('fulfilment.label_cost') }} as label_cost,
        {{ cents('fulfilment.insurance_cost') }} as insurance_cost,
        {{ cents('fulfilment.other_fees') }} as other_fees,
        {{ cents('fulfilment.label_total_cost') }} as label_total_cost,
        {{ cents('fulfilment.estimated_shipping_cost') }} as estimated_shipping_cost,
        fulfilment.shipping_cost_source,
        {{ cents('fulfilment.shipping_costs') }} as shipping_costs,
        {{ cents('orders.shipping_charged - fulfilment.shipping_costs') }} as shipping_margin,
        {{ built_at() }} as _built_at
    from fulfilment
    inner join orders
        on orders.shop = fulfilment.shop
        and orders.order_id = fulfilment.order_id

)

select * from final
