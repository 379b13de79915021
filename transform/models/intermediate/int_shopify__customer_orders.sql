{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['shop', 'customer_id'],
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['shop', 'customer_id']}, {'columns': ['shop', 'order_id']}, {'columns': ['built_at']}],
    )
}}

{#- Non-test orders of known customers, numbered per customer by processing time: the
    first is the one that makes a customer "new" on its day.

    A table, incremental by customer: a run renumbers every order of the customers with an
    order loaded since the newest load built (and of the customer such an order belonged
    to before); only an order whose customer, day or number changed gets a new `built_at`
    (a returning customer's new order leaves the older ones as they were). -#}

{%- set since = loaded_since('order_loaded_at') %}

with

{# The orders loaded since the cut-off (every order on a full build). -#}
loaded_orders as (

    select shop, order_id, customer_id, processed_at, processed_date, updated_at, loaded_at as order_loaded_at
    from {{ ref('stg_shopify__orders') }}
    {%- if since %}
    where loaded_at > {{ since }}
    {%- endif %}

),

{% if since %}
changed_customers as (

    select shop, customer_id from loaded_orders
    where customer_id is not null
    union
    select built.shop, built.customer_id from {{ this }} as built
    where (built.shop, built.order_id) in (select shop, order_id from loaded_orders)

),
{% endif %}

{#- A changed customer's orders: those loaded since, and those already numbered here (read
    by the customer index, not from the raw orders: every order is one or the other). -#}
orders as (

    select * from loaded_orders
    where customer_id is not null
    {%- if since %}
    union all
    select shop, order_id, customer_id, processed_at, processed_date, updated_at, order_loaded_at
    from {{ this }}
    where (shop, customer_id) in (select shop, customer_id from changed_customers)
        and (shop, order_id) not in (select shop, order_id from loaded_orders)
    {%- endif %}

),

numbered as (

    select
        *,
        row_number() over (
            partition by shop, customer_id order by processed_at, order_id
        ) as customer_order_number,
        min(processed_date) over (partition by shop, customer_id) as first_order_date
    from orders

),

final as (

    select
        *,
        customer_order_number = 1 as is_first_order,
        date_trunc('month', first_order_date)::date as cohort_month
    from numbered

)

{{ select_stamped_if_changed(
    ['customer_id', 'processed_date', 'customer_order_number', 'first_order_date'], ['shop', 'order_id'], since
) }}
