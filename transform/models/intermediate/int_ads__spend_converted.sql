{#- Ad spend per campaign and account day, in the shop currency. The conversion stays
    visible: the account currency, the rate used and the day it is from. The account's
    own day is booked as the shop day (platforms report whole days in the account's
    time zone; they cannot be split). An account whose time zone is ahead of the shop's
    reports a day the shop has not begun yet: that spend waits in staging until the shop's
    own day begins (no report has a day after the shop's today). -#}
with

spend as (

    select * from {{ ref('stg_ads__ad_spend_daily') }}

),

accounts as (

    select platform, account_id, currency from {{ ref('stg_ads__ad_accounts') }}

),

account_shops as (

    select platform, account_id, shop from {{ ref('int_accounts__shops') }}
    where source = 'ads' and shop is not null

),

shops as (

    select shop, currency, iana_timezone from {{ ref('stg_shopify__shop') }}

),

rates as (

    select * from {{ ref('int_fx__rates') }}

),

converted as (

    select
        account_shops.shop,
        spend.platform,
        spend.account_id,
        spend.campaign_id,
        spend.campaign_name,
        spend.spend_date,
        coalesce(spend.currency, accounts.currency, shops.currency) as account_currency,
        shops.currency as shop_currency,
        case
            when coalesce(spend.currency, accounts.currency, shops.currency) = shops.currency then 1
            else rates.rate
        end as fx_rate,
        rates.valid_from as fx_rate_date,
        spend.spend,
        spend.conversion_value,
        spend.impressions,
        spend.clicks,
        spend.conversions
    from spend
    inner join account_shops
        on account_shops.platform = spend.platform
        and account_shops.account_id = spend.account_id
    inner join shops
        on shops.shop = account_shops.shop
    left join accounts
        on accounts.platform = spend.platform
        and accounts.account_id = spend.account_id
    left join rates
        on rates.from_currency = coalesce(spend.currency, accounts.currency)
        and rates.to_currency = shops.currency
        and spend.spend_date >= rates.valid_from
        and (rates.valid_until is null or spend.spend_date < rates.valid_until)
    where spend.spend_date <= {{ shop_today('shops.iana_timezone') }}

),

final as (

    select
        *,
        spend * fx_rate as spend_shop_currency,
        conversion_value * fx_rate as conversion_value_shop_currency
    from converted

)

select * from final
