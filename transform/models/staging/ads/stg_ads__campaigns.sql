with

source as (

    -- one table per configured platform; a platform not configured has none
    select * from {{ bloom_union_sources('ads', [
        'meta_campaigns', 'google_ads_campaigns', 'tiktok_campaigns'
    ]) }}

),

renamed as (

    select
        -- ids
        lower(platform::text) as platform,
        account_id::text as account_id,
        campaign_id::text as campaign_id,

        -- text
        name::text as campaign_name,
        status::text as status,
        objective::text as objective

    from source

)

select * from renamed
