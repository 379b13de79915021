{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['shop', 'transaction_id'],
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['shop', 'transaction_id'], 'unique': True},
            {'columns': ['shop', 'order_id']},
            {'columns': ['built_at']},
        ],
    )
}}

{#- One row per successful SALE or CAPTURE of a non-test order, with the fee it cost:
    the synced fee; for Shopify Payments without one, the fees of its balance
    transactions; for other gateways without one, the `gateway_fees` seed, rounded to the cent.
    And Shopify's own third-party transaction fee: on a gateway that is not exempt (var
    `third_party_fee_exempt_gateways`), the `shopify_third_party_fees` rate of the shop's plan.

    A table, incremental by transaction: a run recomputes the transactions loaded since the
    newest load built, those whose balance transactions were (they arrive with the payout,
    days later, and the tap re-reads them for two weeks) and those of the orders built since
    (an order loaded after its transactions). Only a transaction whose fee or order changed
    gets a new `built_at`, which is what the models downstream look for. -#}

{%- set since = loaded_since('loaded_at') if built_has_column('third_party_fee') else none %}
{%- set balance_since = loaded_since('balance_loaded_at') or since %}
{%- set built = built_since() %}

with

{% if since %}
changed as (

    select shop, transaction_id from {{ ref('stg_shopify__transactions') }}
    where loaded_at > {{ since }}
    union
    select shop, transaction_id from {{ ref('stg_shopify__balance_transactions') }}
    where transaction_id is not null
        and loaded_at > {{ balance_since }}
    {%- if built %}
    union
    select shop, transaction_id from {{ ref('stg_shopify__transactions') }}
    where (shop, order_id) in (
        select shop, order_id from {{ ref('int_shopify__order_sales') }}
        where built_at > {{ built }}
    )
    {%- endif %}

),
{% endif %}

transactions as (

    select * from {{ ref('stg_shopify__transactions') }}
    where status = 'SUCCESS' and kind in ('SALE', 'CAPTURE')
    {%- if since %}
        and (shop, transaction_id) in (select shop, transaction_id from changed)
    {%- endif %}

),

orders as (

    select shop, order_id from {{ ref('int_shopify__order_sales') }}

),

balance_fees as (

    select shop, transaction_id, sum(fee) as fee, max(loaded_at) as balance_loaded_at
    from {{ ref('stg_shopify__balance_transactions') }}
    where transaction_id is not null
    {%- if since %}
        and (shop, transaction_id) in (select shop, transaction_id from transactions)
    {%- endif %}
    group by shop, transaction_id

),

gateway_fees as (

    select shop, lower(gateway) as gateway, valid_from, percent_fee, fixed_fee
    from {{ ref('gateway_fees') }}

),

plans as (

    select shop, lower(plan) as plan from {{ ref('stg_shopify__shop') }}

),

plan_fees as (

    select lower(plan) as plan, valid_from, percent_fee from {{ ref('shopify_third_party_fees') }}

),

joined as (

    select
        transactions.shop,
        transactions.transaction_id,
        transactions.order_id,
        transactions.kind,
        transactions.gateway,
        transactions.processed_at,
        transactions.processed_date,
        transactions.loaded_at,
        balance_fees.balance_loaded_at,
        transactions.amount,
        transactions.fee as synced_fee,
        balance_fees.fee as balance_transaction_fee,
        configured.percent_fee,
        configured.fixed_fee,
        case
            when lower(transactions.gateway) in (
                {%- for gateway in var('third_party_fee_exempt_gateways') %}
                '{{ gateway | lower }}'{{ "," if not loop.last }}
                {%- endfor %}
            ) then 0
            else coalesce(round(transactions.amount * plan_fee.percent_fee / 100, 2), 0)
        end as third_party_fee
    from transactions
    inner join orders
        on orders.shop = transactions.shop
        and orders.order_id = transactions.order_id
    left join balance_fees
        on balance_fees.shop = transactions.shop
        and balance_fees.transaction_id = transactions.transaction_id
    left join lateral (
        select gateway_fees.percent_fee, gateway_fees.fixed_fee
        from gateway_fees
        where {{ seed_applies_to('gateway_fees', 'transactions.shop') }}
            and gateway_fees.gateway = transactions.gateway
            and gateway_fees.valid_from <= transactions.processed_date
        order by {{ seed_precedence('gateway_fees') }}
        limit 1
    ) as configured on true
    left join plans
        on plans.shop = transactions.shop
    left join lateral (
        select plan_fees.percent_fee
        from plan_fees
        where plan_fees.plan = plans.plan
            and plan_fees.valid_from <= transactions.processed_date
        order by plan_fees.valid_from desc
        limit 1
    ) as plan_fee on true

),

final as (

    select
        *,
        case
            when gateway = 'shopify_payments' and synced_fee is not null then 'synced'
            when gateway = 'shopify_payments' and balance_transaction_fee is not null then 'balance_transactions'
            when gateway = 'shopify_payments' then 'none'
            when coalesce(synced_fee, 0) <> 0 then 'synced'
            when percent_fee is not null or fixed_fee is not null then 'gateway_fees'
            else 'none'
        end as fee_source,
        case
            when gateway = 'shopify_payments' then coalesce(synced_fee, balance_transaction_fee, 0)
            when coalesce(synced_fee, 0) <> 0 then synced_fee
            -- a gateway charges whole cents: the configured fee is rounded per transaction
            else round(coalesce(amount * percent_fee / 100, 0) + coalesce(fixed_fee, 0), 2)
        end as transaction_fee
    from joined

)

{{ select_stamped_if_changed(['order_id', 'processed_date', 'transaction_fee', 'third_party_fee'], ['shop', 'transaction_id'], since) }}
