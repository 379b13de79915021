with

source as (

    select * from {{ bloom_source('shopify', 'shop') }}

),

renamed as (

    select
        -- ids
        shop::text as shop,
        id::text as shop_gid,

        -- text
        name::text as shop_name,
        myshopify_domain::text as myshopify_domain,
        currency::text as currency,
        coalesce(nullif(iana_timezone::text, ''), 'UTC') as iana_timezone,
        plan::text as plan,

        -- timestamps
        synced_at::timestamp as synced_at

    from source

)

select * from renamed
