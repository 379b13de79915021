{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['provider', 'label_id'],
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['provider', 'label_id'], 'unique': True},
            {'columns': ['shop', 'order_id']},
            {'columns': ['loaded_at']},
            {'columns': ['built_at']},
        ],
        pre_hook="set enable_nestloop = off",
        post_hook="reset enable_nestloop",
    )
}}

{#- No nested loops: Postgres cannot estimate the account and order-name joins below and
    once took one label at a time against every order (minutes at 20k orders). -#}

{#- Shipping labels with their shop, the order they are for and their cost in the shop
    currency (rate of the label's day). A label matches the order whose name equals its
    `order_ref` (the leading `#` optional on either side).

    A table, incremental by label: a run recomputes the labels loaded since the newest load
    built and retries those still unmatched (their order may have been synced since). The
    shipping tap re-reads its trailing window every day, so most of them come back
    unchanged: only a label whose figures or order changed gets a new `built_at`, which is
    what the models downstream look for. -#}

{%- set since = loaded_since('loaded_at') %}

with

labels as (

    select * from {{ ref('stg_shipping__shipping_labels') }}
    {%- if since %}
    where loaded_at > {{ since }}
    union
    select * from {{ ref('stg_shipping__shipping_labels') }}
    where (provider, label_id) in (
        select provider, label_id from {{ this }}
        where order_id is null and coalesce(order_ref_match, '') <> 'none'
    )
    {%- endif %}

),

account_shops as (

    select platform, account_id, shop from {{ ref('int_accounts__shops') }}
    where source = 'shipping' and shop is not null

),

shops as (

    select shop, currency, iana_timezone from {{ ref('stg_shopify__shop') }}

),

orders as (

    select shop, order_id, order_name from {{ ref('stg_shopify__orders') }}

),

rates as (

    select * from {{ ref('int_fx__rates') }}

),

placed as (

    select
        labels.*,
        account_shops.shop,
        shops.currency as shop_currency,
        {{ local_date('labels.created_at', 'shops.iana_timezone') }} as created_date
    from labels
    inner join account_shops
        on account_shops.platform = labels.provider
        and account_shops.account_id = labels.account_id
    inner join shops
        on shops.shop = account_shops.shop

),

matched as (

    select
        placed.*,
        orders.order_id,
        case when coalesce(placed.currency, placed.shop_currency) = placed.shop_currency then 1 else rates.rate end
            as fx_rate,
        rates.valid_from as fx_rate_date
    from placed
    left join orders
        on orders.shop = placed.shop
        and ltrim(orders.order_name, '#') = ltrim(placed.order_ref, '#')
        and coalesce(placed.order_ref_match, '') <> 'none'
    left join rates
        on rates.from_currency = placed.currency
        and rates.to_currency = placed.shop_currency
        and placed.created_date >= rates.valid_from
        and (rates.valid_until is null or placed.created_date < rates.valid_until)

),

final as (

    select
        *,
        label_cost * fx_rate as label_cost_shop_currency,
        insurance_cost * fx_rate as insurance_cost_shop_currency,
        other_fees * fx_rate as other_fees_shop_currency,
        total_cost * fx_rate as total_cost_shop_currency
    from matched

)

{{ select_stamped_if_changed(['shop', 'order_id', 'is_voided', 'created_date', 'total_cost_shop_currency'], ['provider', 'label_id'], since) }}
