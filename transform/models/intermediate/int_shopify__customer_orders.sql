{#- Non-test orders of known customers, numbered per customer by processing time: the
    first is the one that makes a customer "new" on its day. -#}
with

orders as (

    select shop, order_id, customer_id, processed_at, processed_date
    from {{ ref('stg_shopify__orders') }}
    where customer_id is not null

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

select * from final
