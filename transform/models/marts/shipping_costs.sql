{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['shop', 'order_id'],
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['shop', 'order_id'], 'unique': True}, {'columns': ['_built_at']}],
        pre_hook="{% if is_incremental() %}delete from {{ this }} where order_id is null{% endif %}",
    )
}}

{#- One row per non-test order: what the customer paid for shipping (net of refunded
    shipping) against what shipping cost: synced label costs where labels matched, the
    `shipping_cost_rules` estimate otherwise. And one row per non-voided label that matches
    no order (`shipping_cost_source` `unattributed_label`, no order_id): a cost all the
    same, on the day it was bought.

    Incremental by order: a run recomputes the orders rebuilt in orders_profit since its
    last build (which include every order whose figures were). The few unattributed labels
    are replaced whole every run (the pre-hook deletes them): one matched or voided since
    leaves no row behind. A table built before `label_id` existed is rebuilt whole once. -#}

{%- set since = built_since('_built_at') if built_has_column('label_id') else none %}

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
        null::text as label_provider,
        null::text as label_id,
        null::text as order_ref,
        {{ built_at() }} as _built_at
    from fulfilment
    inner join orders
        on orders.shop = fulfilment.shop
        and orders.order_id = fulfilment.order_id

),

unattributed as (

    select
        labels.shop,
        null::text as order_id,
        null::text as order_name,
        labels.created_date as processed_date,
        null::timestamp as updated_at,
        null::text as shipping_country,
        labels.shop_currency as currency,
        0 as shippable_units,
        0 as shipping_charged,
        1 as labels,
        {{ cents('labels.label_cost_shop_currency') }} as label_cost,
        {{ cents('labels.insurance_cost_shop_currency') }} as insurance_cost,
        {{ cents('labels.other_fees_shop_currency') }} as other_fees,
        {{ cents('labels.total_cost_shop_currency') }} as label_total_cost,
        null::numeric as estimated_shipping_cost,
        'unattributed_label' as shipping_cost_source,
        {{ cents('labels.total_cost_shop_currency') }} as shipping_costs,
        {{ cents('- labels.total_cost_shop_currency') }} as shipping_margin,
        labels.provider as label_provider,
        labels.label_id,
        labels.order_ref,
        {{ built_at() }} as _built_at
    from {{ ref('int_shipping__labels') }} as labels
    where labels.order_id is null
        and not labels.is_voided
        and labels.shop is not null

)

select * from final
union all
select * from unattributed
