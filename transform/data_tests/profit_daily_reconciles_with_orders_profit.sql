-- Summed over every day and every order, profit_daily and orders_profit must agree on each
-- figure they share (they book returns, fees and costs on different days, never in
-- different amounts); profit_daily's CM2 also takes off the labels that match no order,
-- which no order carries. Both round each row to the cent, so the sums may differ by half
-- a cent per row. A failure after an incremental run means a change older than
-- `lookback_days` reached orders_profit only: rebuild with --full-refresh.
{%- set figures = ['gross_sales', 'discounts', 'returns', 'net_sales', 'shipping_charged', 'taxes',
                   'total_sales', 'cogs', 'shipping_costs', 'handling', 'transaction_fees',
                   'third_party_transaction_fees', 'cm1', 'cm2'] %}
with

daily as (

    select
        shop,
        count(*) as row_count,
        sum(orders) as orders,
        {%- for figure in figures %}
        sum({{ figure }}) as {{ figure }}{{ "," if not loop.last }}
        {%- endfor %}
    from (
        select {{ star_except(ref('profit_daily'), ['cm2'], 'days') }}, days.cm2 + days.unattributed_shipping_costs as cm2
        from {{ ref('profit_daily') }} as days
    ) as days
    group by shop

),

per_order as (

    select
        shop,
        count(*) as row_count,
        count(*) as orders,
        {%- for figure in figures %}
        sum({{ figure }}) as {{ figure }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('orders_profit') }}
    group by shop

),

compared as (

    select
        coalesce(daily.shop, per_order.shop) as shop,
        'orders' as figure,
        daily.orders as daily_sum,
        per_order.orders as order_sum,
        0 as tolerance
    from daily
    full outer join per_order on per_order.shop = daily.shop
    {%- for figure in figures %}
    union all
    select
        coalesce(daily.shop, per_order.shop),
        '{{ figure }}',
        daily.{{ figure }},
        per_order.{{ figure }},
        0.005 * (coalesce(daily.row_count, 0) + coalesce(per_order.row_count, 0))
    from daily
    full outer join per_order on per_order.shop = daily.shop
    {%- endfor %}

)

select *
from compared
where abs(coalesce(daily_sum, 0) - coalesce(order_sum, 0)) > tolerance
