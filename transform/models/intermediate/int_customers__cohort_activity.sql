{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['shop', 'month'],
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['shop', 'cohort_month', 'month'], 'unique': True}, {'columns': ['shop', 'month']}],
    )
}}

{#- One row per shop, cohort (month of the customers' first order) and month with orders of
    that cohort: active customers, orders, net sales, CM2 and customers whose second order
    fell in that month. customer_cohorts reads only this small table.

    A table, incremental by month: a run recomputes every cohort's cell in the months
    holding an order that orders_profit rebuilt, or int_shopify__customer_orders renumbered,
    since its last build (a whole month, so that a cell whose orders moved to another cohort
    is recomputed or removed too). -#}

{%- set since = built_since() %}

with

{% if since %}
changed_months as (

    select shop, date_trunc('month', processed_date)::date as month
    from {{ ref('int_shopify__customer_orders') }}
    where built_at > {{ since }}
    union
    select shop, date_trunc('month', processed_date)::date
    from {{ ref('orders_profit') }}
    where _built_at > {{ since }}
        and customer_id is not null

),
{% endif %}

customer_orders as (

    select
        shop,
        order_id,
        customer_id,
        customer_order_number,
        cohort_month,
        date_trunc('month', processed_date)::date as month
    from {{ ref('int_shopify__customer_orders') }}
    {%- if since %}
    where (shop, date_trunc('month', processed_date)::date)
        in (select shop, month from changed_months)
    {%- endif %}

),

orders as (

    select shop, order_id, net_sales, cm2 from {{ ref('orders_profit') }}

),

final as (

    select
        customer_orders.shop,
        customer_orders.cohort_month,
        customer_orders.month,
        count(distinct customer_orders.customer_id) as active_customers,
        count(*) as orders,
        sum(orders.net_sales) as net_sales,
        sum(orders.cm2) as cm2,
        count(*) filter (where customer_orders.customer_order_number = 2) as new_repeat_customers,
        {{ built_at() }} as built_at
    from customer_orders
    inner join orders
        on orders.shop = customer_orders.shop
        and orders.order_id = customer_orders.order_id
    group by 1, 2, 3

)

select * from final
