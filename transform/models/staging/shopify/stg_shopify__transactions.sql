with

source as (

    select * from {{ bloom_source('shopify', 'transactions') }}

),

shops as (

    select shop, iana_timezone from {{ ref('stg_shopify__shop') }}

),

renamed as (

    select
        -- ids
        source.shop::text as shop,
        source.id::text as transaction_id,
        source.order_id::text as order_id,
        source.parent_id::text as parent_transaction_id,

        -- text
        source.kind::text as kind,
        source.status::text as status,
        lower(source.gateway::text) as gateway,
        source.currency::text as currency,
        source.presentment_currency::text as presentment_currency,
        source.fee_currency::text as fee_currency,

        -- numerics
        source.amount::numeric as amount,
        source.amount_presentment::numeric as amount_presentment,
        source.fee::numeric as fee,

        -- booleans
        coalesce(source.test::boolean, false) as is_test,

        -- timestamps (UTC) and shop-local day
        source.processed_at::timestamp as processed_at,
        source._sdc_batched_at::timestamp as loaded_at,
        {{ local_date('source.processed_at::timestamp', 'shops.iana_timezone') }} as processed_date

    from source
    left join shops on shops.shop = source.shop::text

)

select * from renamed
-- Test transactions go with test orders (DEFINITIONS.md).
where not is_test
