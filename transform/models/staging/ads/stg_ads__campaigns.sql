with

source as (

    select * from {{ bloom_source('ads', 'campaigns') }}

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
