{{ config(materialized='table') }}

{#- Every shop-local day of each shop's report range: from its first to its last day with
    synced activity (orders, refunds, transactions, payouts, ad spend), gaps filled so
    that days without sales still carry their costs, and never after the shop's today (the
    day of the run in the shop's time zone: a payout dated ahead, or an ad account whose
    day begins before the shop's, must not open a day that has not begun). Each source gives its own first and
    last day, read from the per-order tables where there are some (a range needs no list
    of every day of every order); transaction fees hold the successful sales and captures
    of non-test orders. -#}

{%- set sources = [
    ('int_shopify__order_sales', 'processed_date'),
    ('int_shopify__refunds', 'processed_date'),
    ('int_shopify__transaction_fees', 'processed_date'),
    ('stg_shopify__payouts', 'issued_date'),
    ('int_ads__spend_converted', 'spend_date'),
] %}

with

source_ranges as (
    {% for model, day in sources %}
    select shop, min({{ day }}) as first_day, max({{ day }}) as last_day
    from {{ ref(model) }}
    group by shop
    {{- "\n    union all" if not loop.last }}
    {%- endfor %}

),

activity as (

    select shop, min(first_day) as first_day, max(last_day) as last_day
    from source_ranges
    where first_day is not null
    group by shop

),

shops as (

    select shop, iana_timezone from {{ ref('stg_shopify__shop') }}

),

ranges as (

    select
        activity.shop,
        activity.first_day,
        least(activity.last_day, {{ shop_today("coalesce(shops.iana_timezone, 'UTC')") }}) as last_day
    from activity
    left join shops
        on shops.shop = activity.shop

),

days as (

    select
        ranges.shop,
        series.day::date as date
    from ranges
    cross join lateral generate_series(ranges.first_day, ranges.last_day, interval '1 day') as series (day)

)

select * from days
