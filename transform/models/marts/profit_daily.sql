{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['shop', 'date'],
        on_schema_change='append_new_columns',
        post_hook="{{ delete_days_after_shop_today(this) }}",
    )
}}

{#- One row per shop and shop-local day of its report range: sales, costs, margins.
    Incremental: a run recomputes the days from `lookback_days` before the earliest of the
    shops' last built days (ad platforms and payouts revise recent days), and every day
    that holds an order, refund or fee of an order int_orders__figures rebuilt since this
    table's last build, or a refund, fee or label rebuilt since then, however old (a label
    voided or matched late, an order cancelled or edited, a fee that came with its payout).
    Labels that match no order are costs all the same: booked on their own day
    (`unattributed_shipping_costs`, inside CM2). A table built before its newest column
    existed is rebuilt whole once. A row of a day after the shop's today (a table built
    before that rule, or as of a later time) is deleted after the build: an incremental run
    rewrites only the days of the range.
    A day is final unless history some source still owes covers it, or its new customers
    depend on Shopify orders older than it still pending, or it sold units without a cost
    (`provisional_reason` says which; sync_history says how much history is in); a day
    built while history was pending is rebuilt by every run until it no longer is. -#}

{%- set platforms = var('ad_platforms') -%}

{#- The earliest of the shops' (last built day - lookback); none (every day) while a
    synced shop has no row yet. -#}
{%- set since = lookback_cutoff(
    "select case when exists (select 1 from " ~ ref('stg_shopify__shop') ~ " as shops"
    ~ " where not exists (select 1 from " ~ this ~ " as built where built.shop = shops.shop))"
    ~ " then null else (select min(last_day) - " ~ var('lookback_days')
    ~ " from (select shop, max(date) as last_day from " ~ this ~ " group by shop) as built) end",
    type='date'
) if built_has_column('history_pending') else none -%}
{#- The newest order build this table has seen (none on a table built before the column
    existed: then every order counts as rebuilt). -#}
{%- set seen = built_since('_orders_built_at') if since else none %}

with

{% if since %}
rebuilt_orders as (

    select shop, order_id, processed_date from {{ ref('int_orders__figures') }}
    {%- if seen %}
    where built_at > {{ seen }}
    {%- endif %}

),

affected_days as (

    select shop, date from {{ ref('int_shop__days') }}
    where date >= {{ since }}
    union
    select shop, processed_date from rebuilt_orders
    union
    select refunds.shop, refunds.processed_date
    from {{ ref('int_shopify__refunds') }} as refunds
    inner join rebuilt_orders
        on rebuilt_orders.shop = refunds.shop
        and rebuilt_orders.order_id = refunds.order_id
    union
    select fees.shop, fees.processed_date
    from {{ ref('int_shopify__transaction_fees') }} as fees
    inner join rebuilt_orders
        on rebuilt_orders.shop = fees.shop
        and rebuilt_orders.order_id = fees.order_id
    {%- if seen %}
    union
    select shop, processed_date from {{ ref('int_shopify__refunds') }}
    where built_at > {{ seen }}
    union
    select shop, processed_date from {{ ref('int_shopify__transaction_fees') }}
    where built_at > {{ seen }}
    union
    select shop, created_date from {{ ref('int_shipping__labels') }}
    where built_at > {{ seen }}
        and shop is not null
    {%- endif %}
    union
    select shop, date from {{ this }}
    where history_pending is not null

),
{% endif %}

days as (

    select days.shop, days.date from {{ ref('int_shop__days') }} as days
    {%- if since %}
    inner join affected_days
        on affected_days.shop = days.shop
        and affected_days.date = days.date
    {%- endif %}

),

shops as (

    select shop, currency, iana_timezone from {{ ref('stg_shopify__shop') }}

),

pending_history as (

    select * from {{ ref('int_sync__source_history') }}
    where is_pending
        and shop is not null

),

day_bounds as (

    select
        days.shop,
        days.date,
        (days.date::timestamp at time zone shops.iana_timezone) at time zone 'UTC' as starts_at,
        ((days.date + 1)::timestamp at time zone shops.iana_timezone) at time zone 'UTC' as ends_at
    from days
    inner join shops on shops.shop = days.shop
    where exists (select 1 from pending_history)

),

{#- Sources whose pending span covers part of the day (ad platforms' spans are account days,
    the others' UTC times), and whether Shopify orders from before the day's end are pending
    (a customer's first order may be among them). -#}
pending_days as (

    select
        bounds.shop,
        bounds.date,
        string_agg(distinct pending.source, ', ' order by pending.source) filter (
            where bounds.date >= pending.pending_from_day and bounds.date < pending.pending_to_day
                or (pending.pending_from_at is null or pending.pending_from_at < bounds.ends_at)
                and pending.pending_to_at > bounds.starts_at
        ) as history_pending,
        coalesce(bool_or(
            pending.source = 'shopify' and pending.stream = 'orders'
            and (pending.pending_from_at is null or pending.pending_from_at < bounds.ends_at)
        ), false) as first_orders_pending
    from day_bounds as bounds
    inner join pending_history as pending on pending.shop = bounds.shop
    group by bounds.shop, bounds.date

),

order_days as (

    select
        shop,
        processed_date as date,
        count(*) as orders,
        sum(units) as units,
        sum(gross_sales) as gross_sales,
        sum(discounts) as discounts,
        sum(shipping_charged) as shipping_charged,
        sum(taxes) as taxes,
        sum(cogs) as cogs,
        sum(units_without_cost) as units_without_cost,
        sum(net_sales_without_cost) as net_sales_without_cost,
        sum(shipping_costs) as shipping_costs,
        sum(handling) as handling
    from {{ ref('int_orders__figures') }} as figures
    where (figures.shop, figures.processed_date) in (select shop, date from days)
    group by shop, processed_date

),

new_customer_days as (

    select shop, processed_date as date, count(*) as new_customers
    from {{ ref('int_shopify__customer_orders') }} as customer_orders
    where is_first_order
        and (customer_orders.shop, customer_orders.processed_date) in (select shop, date from days)
    group by shop, processed_date

),

refund_days as (

    select
        shop,
        processed_date as date,
        sum(units_returned) as units_returned,
        sum(returns) as returns,
        sum(shipping_refunded) as shipping_refunded,
        sum(taxes_refunded) as taxes_refunded,
        sum(cogs_reversed) as cogs_reversed,
        sum(returns_without_cost) as returns_without_cost
    from {{ ref('int_shopify__refunds') }} as refunds
    where (refunds.shop, refunds.processed_date) in (select shop, date from days)
    group by shop, processed_date

),

fee_days as (

    select
        shop,
        processed_date as date,
        sum(transaction_fee) as transaction_fees,
        sum(third_party_fee) as third_party_transaction_fees
    from {{ ref('int_shopify__transaction_fees') }} as fees
    where (fees.shop, fees.processed_date) in (select shop, date from days)
    group by shop, processed_date

),

unattributed_label_days as (

    select shop, created_date as date, sum(total_cost_shop_currency) as unattributed_shipping_costs
    from {{ ref('int_shipping__labels') }} as labels
    where labels.order_id is null
        and not labels.is_voided
        and (labels.shop, labels.created_date) in (select shop, date from days)
    group by shop, created_date

),

ad_days as (

    select
        shop,
        spend_date as date,
        {%- for platform in platforms %}
        sum(case when platform = '{{ platform }}' then spend_shop_currency else 0 end) as ad_spend_{{ platform }},
        {%- endfor %}
        sum(spend_shop_currency) as ad_spend
    from {{ ref('int_ads__spend_converted') }} as spend
    where (spend.shop, spend.spend_date) in (select shop, date from days)
    group by shop, spend_date

),

expense_days as (

    select shop, date, sum(amount) as operating_expenses
    from {{ ref('int_finance__operating_expenses_daily') }} as expenses
    where (expenses.shop, expenses.date) in (select shop, date from days)
    group by shop, date

),

payout_days as (

    select shop, issued_date as date, sum(net) as payouts
    from {{ ref('stg_shopify__payouts') }} as payouts
    where (payouts.shop, payouts.issued_date) in (select shop, date from days)
    group by shop, issued_date

),

joined as (

    select
        days.shop,
        days.date,
        shops.currency,
        coalesce(order_days.orders, 0) as orders,
        coalesce(new_customer_days.new_customers, 0) as new_customers,
        coalesce(order_days.units, 0) as units,
        coalesce(refund_days.units_returned, 0) as units_returned,
        coalesce(order_days.gross_sales, 0) as gross_sales,
        coalesce(order_days.discounts, 0) as discounts,
        coalesce(refund_days.returns, 0) as returns,
        coalesce(order_days.shipping_charged, 0) - coalesce(refund_days.shipping_refunded, 0) as shipping_charged,
        coalesce(order_days.taxes, 0) - coalesce(refund_days.taxes_refunded, 0) as taxes,
        coalesce(order_days.cogs, 0) - coalesce(refund_days.cogs_reversed, 0) as cogs,
        coalesce(order_days.units_without_cost, 0) as units_without_cost,
        coalesce(order_days.net_sales_without_cost, 0) - coalesce(refund_days.returns_without_cost, 0)
            as net_sales_without_cost,
        coalesce(order_days.shipping_costs, 0) as shipping_costs,
        coalesce(unattributed_label_days.unattributed_shipping_costs, 0) as unattributed_shipping_costs,
        coalesce(order_days.handling, 0) as handling,
        coalesce(fee_days.transaction_fees, 0) as transaction_fees,
        coalesce(fee_days.third_party_transaction_fees, 0) as third_party_transaction_fees,
        {%- for platform in platforms %}
        coalesce(ad_days.ad_spend_{{ platform }}, 0) as ad_spend_{{ platform }},
        {%- endfor %}
        coalesce(ad_days.ad_spend, 0) as ad_spend,
        coalesce(expense_days.operating_expenses, 0) as operating_expenses,
        coalesce(payout_days.payouts, 0) as payouts,
        pending_days.history_pending,
        coalesce(pending_days.first_orders_pending, false) as first_orders_pending,
        (select max(built_at) from {{ ref('int_orders__figures') }}) as _orders_built_at
    from days
    left join shops on shops.shop = days.shop
    left join order_days on order_days.shop = days.shop and order_days.date = days.date
    left join new_customer_days on new_customer_days.shop = days.shop and new_customer_days.date = days.date
    left join refund_days on refund_days.shop = days.shop and refund_days.date = days.date
    left join fee_days on fee_days.shop = days.shop and fee_days.date = days.date
    left join unattributed_label_days
        on unattributed_label_days.shop = days.shop
        and unattributed_label_days.date = days.date
    left join ad_days on ad_days.shop = days.shop and ad_days.date = days.date
    left join expense_days on expense_days.shop = days.shop and expense_days.date = days.date
    left join payout_days on payout_days.shop = days.shop and payout_days.date = days.date
    left join pending_days on pending_days.shop = days.shop and pending_days.date = days.date

),

figures as (

    select
        *,
        {{ profit_figures(other_costs=['unattributed_shipping_costs']) }}
    from joined

),

margins as (

    select
        *,
        cm2 - ad_spend as cm3,
        cm2 - ad_spend - operating_expenses as net_profit,
        nullif(concat_ws('; ',
            'history pending: ' || history_pending,
            case when first_orders_pending then 'earlier Shopify orders pending (new customers, unmatched labels)' end,
            case when units_without_cost <> 0 or net_sales_without_cost <> 0 then 'units without a cost' end
        ), '') as provisional_reason
    from figures

),

final as (

    select
        shop,
        date,
        currency,
        orders,
        new_customers,
        units,
        units_returned,
        {{ cents_columns([
            'gross_sales', 'discounts', 'returns', 'net_sales', 'shipping_charged', 'taxes',
            'total_sales', 'cogs', 'shipping_costs', 'unattributed_shipping_costs', 'handling',
            'transaction_fees', 'third_party_transaction_fees',
        ]) }},
        units_without_cost,
        {{ cents('net_sales - net_sales_without_cost') }} as net_sales_with_cost_recorded,
        round({{ safe_divide('net_sales - net_sales_without_cost', 'net_sales') }}, 4) as cost_coverage,
        {%- for platform in platforms %}
        {{ cents('ad_spend_' ~ platform) }} as ad_spend_{{ platform }},
        {%- endfor %}
        {{ cents_columns(['ad_spend', 'operating_expenses', 'cm1', 'cm2', 'cm3', 'net_profit']) }},
        round({{ safe_divide('cm1', 'net_sales') }}, 4) as cm1_margin,
        round({{ safe_divide('cm2', 'net_sales') }}, 4) as cm2_margin,
        round({{ safe_divide('cm3', 'net_sales') }}, 4) as cm3_margin,
        round({{ safe_divide('net_profit', 'net_sales') }}, 4) as net_profit_margin,
        {{ cents('payouts') }} as payouts,
        provisional_reason is null as is_final,
        provisional_reason,
        history_pending,
        _orders_built_at
    from margins

)

select * from final
