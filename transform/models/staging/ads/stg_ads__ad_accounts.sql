with

source as (

    select * from {{ bloom_source('ads', 'ad_accounts') }}

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
