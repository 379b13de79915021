with

source as (

    -- one table per configured platform; a platform not configured has none
    select * from {{ bloom_union_sources('ads', [
        'meta_ad_accounts', 'google_ads_ad_accounts', 'tiktok_ad_accounts'
    ]) }}

),

renamed as (

    select
        -- ids
        lower(platform::text) as platform,
        account_id::text as account_id,

        -- text
        name::text as account_name,
        upper(currency::text) as currency,
        timezone::text as account_timezone,
        status::text as status

    from source

)

select * from renamed
