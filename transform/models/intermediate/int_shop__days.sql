{{ config(materialized='table') }}

{#- Every shop-local day of each shop's report range: from its first to its last day with
    synced activity (orders, refunds, transactions, payouts, ad spend), gaps filled so
    that days without sales still carry their costs. Each source gives its own first and
    last day, read from the per-order tables where there are some (a range needs no list
    of every day of every order). -#}
with

source_ranges as (

    select shop, min(processed_date) as first_day, max(processed_date) as last_day
    from {{ ref('int_shopify__order_sales') }}
    group by shop
    union all
    select shop, min(processed_date), max(processed_date)
    from {{ ref('int_shopify__refunds') }}
    group by shop
    union all
    -- successful sales and captures of non-test orders
    select shop, min(processed_date), max(processed_date)
    from {{ ref('int_shopify__transaction_fees') }}
    group by shop
    union all
    select shop, min(issued_date), max(issued_date)
    from {{ ref('stg_shopify__payouts') }}
    group by shop
    union all
    select shop, min(spend_date), max(spend_date)
    from {{ ref('int_ads__spend_converted') }}
    group by shop

),

ranges as (

    select shop, min(first_day) as first_day, max(last_day) as last_day
    from source_ranges
    where first_day is not null
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
