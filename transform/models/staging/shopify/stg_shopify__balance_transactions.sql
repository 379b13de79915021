with

source as (

    select * from {{ bloom_source('shopify', 'balance_transactions') }}

),

shops as (

    select shop, iana_timezone from {{ ref('stg_shopify__shop') }}

),

renamed as (

    select
        -- ids
        source.shop::text as shop,
        source.id::text as balance_transaction_id,
        source.payout_id::text as payout_id,
        source.source_order_id::text as order_id,
        source.source_order_transaction_id::text as transaction_id,

        -- text
        source.type::text as type,
        source.currency::text as currency,

        -- numerics
        source.amount::numeric as amount,
        source.fee::numeric as fee,
        source.net::numeric as net,

        -- booleans
        coalesce(source.test::boolean, false) as is_test,

        -- timestamps (UTC) and shop-local day
        source.transaction_date::timestamp as transaction_at,
        source._sdc_batched_at::timestamp as loaded_at,
        {{ local_date('source.transaction_date::timestamp', 'shops.iana_timezone') }} as transaction_date

    from source
    left join shops on shops.shop = source.shop::text

)

select * from renamed
where not is_test
