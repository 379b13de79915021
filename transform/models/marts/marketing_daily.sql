{#- One row per shop and shop-local day of its report range: ad spend and platform-reported
    results per platform (in the shop currency), and the blended efficiency figures. -#}
{%- set platforms = var('ad_platforms') -%}
{%- set metrics = ['spend', 'impressions', 'clicks', 'conversions', 'conversion_value'] -%}

with

days as (

    select shop, date, currency, total_sales, net_sales, new_customers, is_final, provisional_reason
    from {{ ref('profit_daily') }}

),

spend as (

    select
        shop,
        spend_date as date,
        {%- for platform in platforms %}
        sum(case when platform = '{{ platform }}' then spend_shop_currency else 0 end) as {{ platform }}_spend,
        sum(case when platform = '{{ platform }}' then impressions else 0 end) as {{ platform }}_impressions,
        sum(case when platform = '{{ platform }}' then clicks else 0 end) as {{ platform }}_clicks,
        sum(case when platform = '{{ platform }}' then conversions else 0 end) as {{ platform }}_conversions,
        sum(case when platform = '{{ platform }}' then conversion_value_shop_currency else 0 end)
            as {{ platform }}_conversion_value,
        {%- endfor %}
        sum(spend_shop_currency) as ad_spend,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(conversions) as conversions,
        sum(conversion_value_shop_currency) as conversion_value
    from {{ ref('int_ads__spend_converted') }}
    group by shop, spend_date

),

new_customer_orders as (

    select orders.shop, orders.processed_date as date, sum(orders.net_sales) as new_customer_net_sales
    from {{ ref('orders_profit') }} as orders
    where orders.customer_type = 'new'
    group by orders.shop, orders.processed_date

),

joined as (

    select
        days.shop,
        days.date,
        days.currency,
        {%- for platform in platforms %}
        {%- for metric in metrics %}
        coalesce(spend.{{ platform }}_{{ metric }}, 0) as {{ platform }}_{{ metric }},
        {%- endfor %}
        {%- endfor %}
        coalesce(spend.ad_spend, 0) as ad_spend,
        coalesce(spend.impressions, 0) as impressions,
        coalesce(spend.clicks, 0) as clicks,
        coalesce(spend.conversions, 0) as conversions,
        coalesce(spend.conversion_value, 0) as conversion_value,
        days.total_sales,
        days.net_sales,
        days.new_customers,
        coalesce(new_customer_orders.new_customer_net_sales, 0) as new_customer_net_sales,
        days.is_final,
        days.provisional_reason
    from days
    left join spend
        on spend.shop = days.shop
        and spend.date = days.date
    left join new_customer_orders
        on new_customer_orders.shop = days.shop
        and new_customer_orders.date = days.date

),

final as (

    select
        shop,
        date,
        currency,
        {%- for platform in platforms %}
        {{ cents(platform ~ '_spend') }} as {{ platform }}_spend,
        {{ platform }}_impressions,
        {{ platform }}_clicks,
        {{ platform }}_conversions,
        {{ cents(platform ~ '_conversion_value') }} as {{ platform }}_conversion_value,
        round({{ safe_divide(platform ~ '_conversion_value', platform ~ '_spend') }}, 4) as {{ platform }}_roas,
        {%- endfor %}
        {{ cents('ad_spend') }} as ad_spend,
        impressions,
        clicks,
        conversions,
        {{ cents('conversion_value') }} as conversion_value,
        round({{ safe_divide('conversion_value', 'ad_spend') }}, 4) as platform_roas,
        total_sales,
        net_sales,
        new_customers,
        {{ cents('new_customer_net_sales') }} as new_customer_net_sales,
        round({{ safe_divide('total_sales', 'ad_spend') }}, 4) as blended_roas,
        round({{ safe_divide('total_sales', 'ad_spend') }}, 4) as mer,
        {{ cents(safe_divide('ad_spend', 'new_customers')) }} as cac,
        round({{ safe_divide('new_customer_net_sales', 'ad_spend') }}, 4) as new_customer_roas,
        is_final,
        provisional_reason
    from joined

)

select * from final
