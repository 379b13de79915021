{#- One row per shop, cohort (month of the customers' first order) and month since then,
    up to the shop's last month with orders: how many of the cohort ordered, retention,
    repeat rate and cumulative net sales and CM2 (per customer, too). Rebuilt each run
    from the per-cohort-month figures of int_customers__cohort_activity (incremental). -#}
with

activity as (

    select * from {{ ref('int_customers__cohort_activity') }}

),

{#- Every cohort customer ordered in the cohort's own month. -#}
cohorts as (

    select shop, cohort_month, active_customers as cohort_customers
    from activity
    where month = cohort_month

),

{#- A cohort is final once Shopify's order history is in: until then its customers' first
    orders may be older than the data loaded, and some of them belong to earlier cohorts. -#}
orders_history_pending as (

    {{ shops_with_orders_history_pending() }}

),

last_months as (

    select shop, max(month) as last_month
    from activity
    group by shop

),

cohort_months as (

    select
        cohorts.shop,
        cohorts.cohort_month,
        cohorts.cohort_customers,
        series.month::date as month
    from cohorts
    inner join last_months on last_months.shop = cohorts.shop
    cross join lateral generate_series(
        cohorts.cohort_month, last_months.last_month, interval '1 month'
    ) as series (month)

),

joined as (

    select
        cohort_months.shop,
        cohort_months.cohort_month,
        cohort_months.month,
        (
            (extract(year from cohort_months.month) - extract(year from cohort_months.cohort_month)) * 12
            + extract(month from cohort_months.month) - extract(month from cohort_months.cohort_month)
        )::integer as months_since_first_order,
        cohort_months.cohort_customers,
        coalesce(activity.active_customers, 0) as active_customers,
        coalesce(activity.orders, 0) as orders,
        coalesce(activity.net_sales, 0) as net_sales,
        coalesce(activity.cm2, 0) as cm2,
        sum(coalesce(activity.new_repeat_customers, 0)) over cohort_window as repeat_customers,
        sum(coalesce(activity.net_sales, 0)) over cohort_window as cumulative_net_sales,
        sum(coalesce(activity.cm2, 0)) over cohort_window as cumulative_cm2
    from cohort_months
    left join activity
        on activity.shop = cohort_months.shop
        and activity.cohort_month = cohort_months.cohort_month
        and activity.month = cohort_months.month
    window cohort_window as (
        partition by cohort_months.shop, cohort_months.cohort_month order by cohort_months.month
    )

),

final as (

    select
        shop,
        cohort_month,
        month,
        months_since_first_order,
        cohort_customers,
        active_customers,
        round({{ safe_divide('active_customers', 'cohort_customers') }}, 4) as retention_rate,
        repeat_customers,
        round({{ safe_divide('repeat_customers', 'cohort_customers') }}, 4) as repeat_rate,
        orders,
        {{ cents('net_sales') }} as net_sales,
        {{ cents('cm2') }} as cm2,
        {{ cents('cumulative_net_sales') }} as cumulative_net_sales,
        {{ cents('cumulative_cm2') }} as cumulative_cm2,
        {{ cents(safe_divide('cumulative_net_sales', 'cohort_customers')) }} as cumulative_net_sales_per_customer,
        {{ cents(safe_divide('cumulative_cm2', 'cohort_customers')) }} as cumulative_cm2_per_customer,
        shop not in (select shop from orders_history_pending) as is_final
    from joined

)

select * from final
