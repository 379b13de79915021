{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['shop', 'cohort_month', 'month'],
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['shop', 'cohort_month', 'month'], 'unique': True}],
    )
}}

{#- One row per shop, cohort (month of the customers' first order) and month with orders of
    that cohort: active customers, orders, net sales, CM2 and customers whose second order
    fell in that month. customer_cohorts reads only this small table.

    A table, incremental by cell: a run recomputes the cells holding an order that
    orders_profit or int_shopify__customer_orders rebuilt since its last build. -#}

{%- set since = built_since() %}

with

{% if since %}
changed_cells as (

    select shop, cohort_month, date_trunc('month', processed_date)::date as month
    from {{ ref('int_shopify__customer_orders') }}
    where built_at > {{ since }}
    union
    select shop, cohort_month, date_trunc('month', processed_date)::date
    from {{ ref('int_shopify__customer_orders') }}
    where (shop, order_id) in (
        select shop, order_id from {{ ref('orders_profit') }}
        where _built_at > {{ since }}
    )

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
    where (shop, cohort_month, date_trunc('month', processed_date)::date)
        in (select shop, cohort_month, month from changed_cells)
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
