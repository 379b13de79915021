{#- One row per non-test order: what the customer paid for shipping (net of refunded
    shipping) against what shipping cost: synced label costs where labels matched, the
    `shipping_cost_rules` estimate otherwise. -#}
with

fulfilment as (

    select * from {{ ref('int_orders__figures') }}

),

orders as (

    select shop, order_id, order_name, currency, shipping_charged from {{ ref('orders_profit') }}

),

final as (

    select
        fulfilment.shop,
        fulfilment.order_id,
        orders.order_name,
        fulfilment.processed_date,
        fulfilment.shipping_country,
        orders.currency,
        fulfilment.shippable_units,
        orders.shipping_charged,
        fulfilment.labels,
        {{ cents('fulfilment.label_cost') }} as label_cost,
        {{ cents('fulfilment.insurance_cost') }} as insurance_cost,
        {{ cents('fulfilment.other_fees') }} as other_fees,
        {{ cents('fulfilment.label_total_cost') }} as label_total_cost,
        {{ cents('fulfilment.estimated_shipping_cost') }} as estimated_shipping_cost,
        fulfilment.shipping_cost_source,
        {{ cents('fulfilment.shipping_costs') }} as shipping_costs,
        {{ cents('orders.shipping_charged - fulfilment.shipping_costs') }} as shipping_margin
    from fulfilment
    inner join orders
        on orders.shop = fulfilment.shop
        and orders.order_id = fulfilment.order_id

)

select * from final
