{#- One row per Shopify Payments payout: its net amount against the sum of the (non-test)
    balance transactions paid out in it. `is_reconciled` is false for every mismatch; the
    warning test on it lists them. -#}
with

payouts as (

    select * from {{ ref('stg_shopify__payouts') }}

),

balance as (

    select
        shop,
        payout_id,
        count(*) as balance_transactions,
        sum(amount) as amount,
        sum(fee) as fee,
        sum(net) as net
    from {{ ref('stg_shopify__balance_transactions') }}
    where payout_id is not null
    group by shop, payout_id

),

final as (

    select
        payouts.shop,
        payouts.payout_id,
        payouts.issued_at,
        payouts.issued_date,
        payouts.status,
        payouts.currency,
        payouts.gross,
        payouts.fee,
        payouts.net,
        coalesce(balance.balance_transactions, 0) as balance_transactions,
        coalesce(balance.amount, 0) as balance_amount,
        coalesce(balance.fee, 0) as balance_fee,
        coalesce(balance.net, 0) as balance_net,
        payouts.net - coalesce(balance.net, 0) as difference,
        abs(payouts.net - coalesce(balance.net, 0)) < 0.005 as is_reconciled
    from payouts
    left join balance
        on balance.shop = payouts.shop
        and balance.payout_id = payouts.payout_id

)

select * from final
