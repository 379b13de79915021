{{ config(materialized='table') }}

{#- Variants sold without a known unit cost, ranked by the net sales they carry: the costs a
    merchant should enter first (in Shopify, the variant's cost per item; or a row of the seed
    `product_cost_overrides`). Their COGS counts 0, so every margin above them is too high.
    Read from product_performance, whose months keep what sold without a cost. -#}

with

months as (

    select * from {{ ref('product_performance') }}
    where units_without_cost <> 0 or net_sales_without_cost <> 0

),

variants as (

    select
        shop,
        variant_id,
        max(product_id) as product_id,
        max(product_title) as product_title,
        max(variant_title) as variant_title,
        max(sku) as sku,
        max(currency) as currency,
        sum(units_without_cost) as units_without_cost,
        sum(net_sales_without_cost) as net_sales_without_cost,
        min(month) as first_month,
        max(month) as last_month
    from months
    group by shop, variant_id

),

final as (

    select
        shop,
        rank() over (partition by shop order by net_sales_without_cost desc) as rank,
        variant_id,
        product_id,
        product_title,
        variant_title,
        sku,
        currency,
        units_without_cost,
        net_sales_without_cost,
        first_month,
        last_month
    from variants

)

select * from final
