{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['shop', 'month'],
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['shop', 'month']}],
    )
}}

{#- One row per shop, variant and shop-local month: units sold and returned, net sales,
    COGS and gross profit. Sales count in the month of their order, returns in the month
    their refund was processed (as in profit_daily). Gift cards are not products sold.

    Incremental by month: a run recomputes every variant of the months that hold a line or
    a refund line of an order loaded since the newest load this table has seen, or built
    since its own last build (an order costed again). -#}

{%- set since = loaded_since('_last_order_loaded_at') if built_has_column('net_sales_without_cost') else none %}
{%- set seen = built_since('_lines_built_at') if since else none %}

with

{% if since %}
changed_months as (

    select shop, date_trunc('month', processed_date)::date as month
    from {{ ref('int_shopify__order_lines') }}
    where order_loaded_at > {{ since }}{{ " or built_at > " ~ seen if seen else "" }}
    union
    select shop, date_trunc('month', processed_date)::date
    from {{ ref('int_shopify__refund_lines') }}
    where order_loaded_at > {{ since }}{{ " or built_at > " ~ seen if seen else "" }}

),
{% endif %}

{%- set in_changed_months = "(shop, date_trunc('month', processed_date)::date) in (select shop, month from changed_months)" %}

sold as (

    select
        shop,
        variant_id,
        date_trunc('month', processed_date)::date as month,
        max(product_id) as product_id,
        max(title) as line_title,
        max(sku) as line_sku,
        sum(units) as units_sold,
        sum(gross_sales) as gross_sales,
        sum(discounts) as discounts,
        sum(cogs) as cogs,
        sum(units_without_cost) as units_without_cost,
        sum(net_sales_without_cost) as net_sales_without_cost,
        max(order_loaded_at) as _last_order_loaded_at,
        max(built_at) as _lines_built_at
    from {{ ref('int_shopify__order_lines') }}
    where not is_gift_card
    {%- if since %}
        and {{ in_changed_months }}
    {%- endif %}
    group by 1, 2, 3

),

returned as (

    select
        shop,
        variant_id,
        date_trunc('month', processed_date)::date as month,
        max(product_id) as product_id,
        sum(units_returned) as units_returned,
        sum(returns) as returns,
        sum(cogs_reversed) as cogs_reversed,
        sum(returns_without_cost) as returns_without_cost,
        max(order_loaded_at) as _last_order_loaded_at,
        max(built_at) as _lines_built_at
    from {{ ref('int_shopify__refund_lines') }}
    where not is_gift_card
    {%- if since %}
        and {{ in_changed_months }}
    {%- endif %}
    group by 1, 2, 3

),

variants as (

    select shop, variant_id, title as variant_title, sku from {{ ref('stg_shopify__product_variants') }}

),

products as (

    select shop, product_id, title as product_title, vendor, product_type
    from {{ ref('stg_shopify__products') }}

),

shops as (

    select shop, currency from {{ ref('stg_shopify__shop') }}

),

combined as (

    select
        coalesce(sold.shop, returned.shop) as shop,
        coalesce(sold.variant_id, returned.variant_id) as variant_id,
        coalesce(sold.month, returned.month) as month,
        coalesce(sold.product_id, returned.product_id) as product_id,
        sold.line_title,
        sold.line_sku,
        coalesce(sold.units_sold, 0) as units_sold,
        coalesce(returned.units_returned, 0) as units_returned,
        coalesce(sold.gross_sales, 0) as gross_sales,
        coalesce(sold.discounts, 0) as discounts,
        coalesce(returned.returns, 0) as returns,
        coalesce(sold.cogs, 0) - coalesce(returned.cogs_reversed, 0) as cogs,
        coalesce(sold.units_without_cost, 0) as units_without_cost,
        coalesce(sold.net_sales_without_cost, 0) - coalesce(returned.returns_without_cost, 0) as net_sales_without_cost,
        greatest(sold._last_order_loaded_at, returned._last_order_loaded_at) as _last_order_loaded_at,
        greatest(sold._lines_built_at, returned._lines_built_at) as _lines_built_at
    from sold
    full outer join returned
        on returned.shop = sold.shop
        and returned.variant_id is not distinct from sold.variant_id
        and returned.month = sold.month

),

final as (

    select
        combined.shop,
        combined.month,
        combined.variant_id,
        combined.product_id,
        products.product_title,
        coalesce(variants.variant_title, combined.line_title) as variant_title,
        coalesce(variants.sku, combined.line_sku) as sku,
        products.vendor,
        products.product_type,
        shops.currency,
        combined.units_sold,
        combined.units_returned,
        {{ cents('combined.gross_sales') }} as gross_sales,
        {{ cents('combined.discounts') }} as discounts,
        {{ cents('combined.returns') }} as returns,
        {{ cents('combined.gross_sales - combined.discounts - combined.returns') }} as net_sales,
        {{ cents('combined.cogs') }} as cogs,
        {{ cents('combined.gross_sales - combined.discounts - combined.returns - combined.cogs') }}
            as gross_profit,
        round({{ safe_divide(
            'combined.gross_sales - combined.discounts - combined.returns - combined.cogs',
            'combined.gross_sales - combined.discounts - combined.returns') }}, 4) as gross_margin,
        round({{ safe_divide('combined.units_returned', 'combined.units_sold') }}, 4) as return_rate,
        combined.units_without_cost,
        {{ cents('combined.net_sales_without_cost') }} as net_sales_without_cost,
        combined._last_order_loaded_at,
        combined._lines_built_at
    from combined
    left join variants
        on variants.shop = combined.shop
        and variants.variant_id = combined.variant_id
    left join products
        on products.shop = combined.shop
        and products.product_id = combined.product_id
    left join shops
        on shops.shop = combined.shop

)

select * from final
