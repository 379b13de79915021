with

source as (

    select * from {{ bloom_source('ads', 'ad_spend_daily') }}

),

renamed as (

    select
        -- ids
        lower(platform::text) as platform,
        account_id::text as account_id,
        campaign_id::text as campaign_id,

        -- text
        campaign_name::text as campaign_name,
        upper(currency::text) as currency,
        account_timezone::text as account_timezone,
        attribution_setting::text as attribution_setting,

        -- numerics (account currency)
        coalesce(spend::numeric, 0) as spend,
        coalesce(impressions::bigint, 0) as impressions,
        coalesce(clicks::bigint, 0) as clicks,
        coalesce(conversions::numeric, 0) as conversions,
        coalesce(conversion_value::numeric, 0) as conversion_value,

        -- dates: the account's own calendar day
        "date"::date as spend_date

    from source

)

select * from renamed
