{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['shop', 'order_id'],
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['shop', 'order_id'], 'unique': True}, {'columns': ['_built_at']}],
    )
}}

{#- One row per non-test order: its sales, all its returns (whatever their day), its costs
    and its contribution margins. Incremental: a run recomputes the orders whose figures,
    refunds, fees or customer numbering were built since its last build. -#}

{%- set since = built_since('_built_at') if built_has_column('third_party_transaction_fees') else none %}

with

{% if since %}
changed_orders as (

    {{ changed_orders(since, [
        'int_orders__figures', 'int_shopify__refunds', 'int_shopify__transaction_fees',
        'int_shopify__customer_orders',
    ]) }}

),
{% endif %}

{#- Each input keeps only the changed orders before it is aggregated. -#}
{%- set changed = "(shop, order_id) in (select shop, order_id from changed_orders)" %}

order_figures as (

    select * from {{ ref('int_orders__figures') }}
    {%- if since %}
    where {{ changed }}
    {%- endif %}

),

customer_orders as (

    select * from {{ ref('int_shopify__customer_orders') }}
    {%- if since %}
    where {{ changed }}
    {%- endif %}

),

order_refunds as (

    select
        shop,
        order_id,
        count(*) as refunds,
        max(processed_date) as last_refund_date,
        sum(units_returned) as units_returned,
        sum(returns) as returns,
        sum(shipping_refunded) as shipping_refunded,
        sum(taxes_refunded) as taxes_refunded,
        sum(cogs_reversed) as cogs_reversed
    from {{ ref('int_shopify__refunds') }}
    {%- if since %}
    where {{ changed }}
    {%- endif %}
    group by shop, order_id

),

order_fees as (

    select
        shop,
        order_id,
        sum(transaction_fee) as transaction_fees,
        sum(third_party_fee) as third_party_transaction_fees
    from {{ ref('int_shopify__transaction_fees') }}
    {%- if since %}
    where {{ changed }}
    {%- endif %}
    group by shop, order_id

),

joined as (

    select
        order_figures.shop,
        order_figures.order_id,
        order_figures.order_name,
        order_figures.customer_id,
        case
            when order_figures.customer_id is null then 'guest'
            when customer_orders.is_first_order then 'new'
            else 'returning'
        end as customer_type,
        customer_orders.customer_order_number,
        order_figures.processed_at,
        order_figures.processed_date,
        order_figures.updated_at,
        order_figures.is_cancelled,
        order_figures.cancelled_at,
        order_figures.source_name,
        order_figures.channel,
        order_figures.shipping_country,
        order_figures.currency,
        order_figures.units,
        coalesce(order_refunds.units_returned, 0) as units_returned,
        coalesce(order_refunds.refunds, 0) as refunds,
        order_refunds.last_refund_date,
        order_figures.gross_sales,
        order_figures.discounts,
        coalesce(order_refunds.returns, 0) as returns,
        order_figures.shipping_charged - coalesce(order_refunds.shipping_refunded, 0) as shipping_charged,
        order_figures.taxes - coalesce(order_refunds.taxes_refunded, 0) as taxes,
        order_figures.cogs - coalesce(order_refunds.cogs_reversed, 0) as cogs,
        order_figures.shipping_costs,
        order_figures.shipping_cost_source,
        order_figures.handling,
        coalesce(order_fees.transaction_fees, 0) as transaction_fees,
        coalesce(order_fees.third_party_transaction_fees, 0) as third_party_transaction_fees
    from order_figures
    left join order_refunds
        on order_refunds.shop = order_figures.shop
        and order_refunds.order_id = order_figures.order_id
    left join order_fees
        on order_fees.shop = order_figures.shop
        and order_fees.order_id = order_figures.order_id
    left join customer_orders
        on customer_orders.shop = order_figures.shop
        and customer_orders.order_id = order_figures.order_id

),

figures as (

    select
        *,
        {{ profit_figures() }}
    from joined

),

final as (

    select
        shop,
        order_id,
        order_name,
        customer_id,
        customer_type,
        customer_order_number,
        processed_at,
        processed_date,
        updated_at,
        is_cancelled,
        cancelled_at,
        source_name,
        channel,
        shipping_country,
        currency,
        units,
        units_returned,
        refunds,
        last_refund_date,
        {{ cents_columns([
            'gross_sales', 'discounts', 'returns', 'net_sales', 'shipping_charged', 'taxes',
            'total_sales', 'cogs', 'shipping_costs',
        ]) }},
        shipping_cost_source,
        {{ cents_columns(['handling', 'transaction_fees', 'third_party_transaction_fees', 'cm1', 'cm2']) }},
        round({{ safe_divide('cm1', 'net_sales') }}, 4) as cm1_margin,
        round({{ safe_divide('cm2', 'net_sales') }}, 4) as cm2_margin,
        {{ built_at() }} as _built_at
    from figures

)

select * from final
