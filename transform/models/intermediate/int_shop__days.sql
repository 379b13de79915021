{#- Every shop-local day of each shop's report range: from its first to its last day with
    synced activity (orders, refunds, transactions, payouts, ad spend), gaps filled so
    that days without sales still carry their costs. -#}
with

event_days as (

    select shop, processed_date as day from {{ ref('stg_shopify__orders') }}
    union
    select shop, processed_date from {{ ref('int_shopify__refunds') }}
    union
    select transactions.shop, transactions.processed_date
    from {{ ref('stg_shopify__transactions') }} as transactions
    inner join {{ ref('stg_shopify__orders') }} as orders
        on orders.shop = transactions.shop
        and orders.order_id = transactions.order_id
    where transactions.status = 'SUCCESS' and transactions.kind in ('SALE', 'CAPTURE')
    union
    select shop, issued_date from {{ ref('stg_shopify__payouts') }}
    union
    select shop, spend_date from {{ ref('int_ads__spend_converted') }}

),

ranges as (

    select shop, min(day) as first_day, max(day) as last_day
    from event_days
    where day is not null
    group by shop

),

days as (

    select
        ranges.shop,
        series.day::date as date
    from ranges
    cross join lateral generate_series(ranges.first_day, ranges.last_day, interval '1 day') as series (day)

)

select * from days
