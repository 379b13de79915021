{#- Personal fields (email, names, phone) are left out on purpose: no report needs them,
    and whatever the tap's `pii` setting, they stop at the raw schema. -#}
with

source as (

    select * from {{ bloom_source('shopify', 'customers') }}

),

renamed as (

    select
        -- ids
        shop::text as shop,
        id::text as customer_id,

        -- text
        country_code::text as country_code,
        city::text as city,

        -- timestamps (UTC)
        created_at::timestamp as created_at,
        updated_at::timestamp as updated_at,
        _sdc_batched_at::timestamp as loaded_at

    from source

)

select * from renamed
