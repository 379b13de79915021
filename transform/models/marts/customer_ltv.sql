{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['shop', 'customer_id'],
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['shop', 'customer_id'], 'unique': True}, {'columns': ['_built_at']}],
        post_hook="{{ refresh_orders_history_final(this) }}",
    )
}}

{#- One row per customer with at least one non-test order: lifetime orders, net sales and
    contribution (CM2, after goods, fulfilment and fees), by order (returns included
    whatever their day). No personal data: the customer is only its id.

    Incremental by customer: a run recomputes the customers with an order orders_profit
    rebuilt since its last build (which include every order of a customer that
    int_shopify__customer_orders renumbered). `is_final` is false while the shop's Shopify
    order history is pending; every build sets it anew on every row. -#}

{%- set since = built_since('_built_at') %}

with

{% if since %}
changed_customers as (

    select distinct shop, customer_id from {{ ref('orders_profit') }}
    where _built_at > {{ since }}
        and customer_id is not null

),
{% endif %}

orders as (

    select * from {{ ref('orders_profit') }}
    where customer_id is not null
    {%- if since %}
        and (shop, customer_id) in (select shop, customer_id from changed_customers)
    {%- endif %}

),

customer_orders as (

    select shop, order_id, cohort_month, first_order_date from {{ ref('int_shopify__customer_orders') }}

),

customers as (

    select shop, customer_id, country_code from {{ ref('stg_shopify__customers') }}

),

per_customer as (

    select
        orders.shop,
        orders.customer_id,
        min(customer_orders.cohort_month) as cohort_month,
        min(customer_orders.first_order_date) as first_order_date,
        max(orders.processed_date) as last_order_date,
        max(orders.currency) as currency,
        count(*) as orders,
        sum(orders.units) as units,
        sum(orders.units_returned) as units_returned,
        sum(orders.gross_sales) as gross_sales,
        sum(orders.returns) as returns,
        sum(orders.net_sales) as net_sales,
        sum(orders.total_sales) as total_sales,
        sum(orders.cm1) as cm1,
        sum(orders.cm2) as cm2
    from orders
    inner join customer_orders
        on customer_orders.shop = orders.shop
        and customer_orders.order_id = orders.order_id
    group by orders.shop, orders.customer_id

),

final as (

    select
        per_customer.shop,
        per_customer.customer_id,
        customers.country_code,
        per_customer.cohort_month,
        per_customer.first_order_date,
        per_customer.last_order_date,
        per_customer.last_order_date - per_customer.first_order_date as days_first_to_last_order,
        per_customer.currency,
        per_customer.orders,
        per_customer.orders > 1 as is_repeat_customer,
        per_customer.units,
        per_customer.units_returned,
        per_customer.gross_sales,
        per_customer.returns,
        per_customer.net_sales,
        per_customer.total_sales,
        per_customer.cm1,
        per_customer.cm2,
        round({{ safe_divide('per_customer.net_sales', 'per_customer.orders') }}, 2) as average_order_net_sales,
        round({{ safe_divide('per_customer.cm2', 'per_customer.net_sales') }}, 4) as cm2_margin,
        per_customer.shop not in ({{ shops_with_orders_history_pending() }}) as is_final,
        {{ built_at() }} as _built_at
    from per_customer
    left join customers
        on customers.shop = per_customer.shop
        and customers.customer_id = per_customer.customer_id

)

select * from final
