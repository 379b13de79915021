{{ config(materialized='table') }}

{#- Which shop each ad and shipping account belongs to: the `source_accounts` seed, else
    the only shop when exactly one is synced. Accounts left without a shop show up here
    with a null `shop` (warning test) and stay out of the reports. -#}
with

shops as (

    select shop from {{ ref('stg_shopify__shop') }}

),

seeded as (

    select source, lower(platform) as platform, account_id, shop from {{ ref('source_accounts') }}

),

ad_accounts as (

    select platform, account_id from {{ ref('stg_ads__ad_spend_daily') }}
    union
    select platform, account_id from {{ ref('stg_ads__ad_accounts') }}

),

shipping_accounts as (

    select distinct provider as platform, account_id from {{ ref('stg_shipping__shipping_labels') }}

),

accounts as (

    select 'ads' as source, platform, account_id from ad_accounts
    union all
    select 'shipping' as source, platform, account_id from shipping_accounts

),

only_shop as (

    select case when count(*) = 1 then min(shop) end as shop from shops

),

mapped as (

    select
        accounts.source,
        accounts.platform,
        accounts.account_id,
        coalesce(seeded.shop, only_shop.shop) as shop,
        case
            when seeded.shop is not null then 'source_accounts'
            when only_shop.shop is not null then 'only_shop'
        end as mapped_by
    from accounts
    cross join only_shop
    left join seeded
        on seeded.source = accounts.source
        and seeded.platform = accounts.platform
        and seeded.account_id = accounts.account_id

)

select * from mapped
