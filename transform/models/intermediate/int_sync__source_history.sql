{#- The history each stream still owes per shop, source and account (none: 0 months
    pending): the rows of stg_sync__source_history, each given its source (`shopify`, `ads`,
    `shipping`) and shop. An account's shop is int_accounts__shops's, else the only shop
    (an account with no row loaded yet is not there); its source is that model's, else
    `ads` for a platform of the `ad_platforms` var and `shipping` for any other. -#}
with

history as (

    select * from {{ ref('stg_sync__source_history') }}

),

accounts as (

    select source, platform, account_id, shop from {{ ref('int_accounts__shops') }}

),

only_shop as (

    select case when count(*) = 1 then min(shop) end as shop from {{ ref('stg_shopify__shop') }}

),

resolved as (

    select
        coalesce(history.shop, accounts.shop, only_shop.shop) as shop,
        case
            when history.shop is not null then 'shopify'
            when accounts.source is not null then accounts.source
            when history.platform in ('{{ var("ad_platforms") | join("', '") }}') then 'ads'
            else 'shipping'
        end as source,
        history.plugin,
        history.stream,
        history.platform,
        history.account_id,
        history.months,
        history.months_pending,
        history.is_pending,
        history.pending_from_day,
        history.pending_to_day,
        history.pending_from_at,
        history.pending_to_at,
        history.recorded_at
    from history
    cross join only_shop
    left join accounts
        on accounts.platform = history.platform
        and accounts.account_id = history.account_id

)

select * from resolved
