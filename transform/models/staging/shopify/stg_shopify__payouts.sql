with

source as (

    select * from {{ bloom_source('shopify', 'payouts') }}

),

shops as (

    select shop, iana_timezone from {{ ref('stg_shopify__shop') }}

),

renamed as (

    select
        -- ids
        source.shop::text as shop,
        source.id::text as payout_id,

        -- text
        source.status::text as status,
        source.currency::text as currency,

        -- numerics
        source.gross::numeric as gross,
        source.fee::numeric as fee,
        source.net::numeric as net,

        -- timestamps (UTC) and shop-local day
        source.issued_at::timestamp as issued_at,
        {{ local_date('source.issued_at::timestamp', 'shops.iana_timezone') }} as issued_date

    from source
    left join shops on shops.shop = source.shop::text

)

select * from renamed
