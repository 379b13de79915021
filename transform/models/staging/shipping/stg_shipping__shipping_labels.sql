with

source as (

    select * from {{ bloom_source('shipping', 'shipping_labels') }}

),

renamed as (

    select
        -- ids
        lower(provider::text) as provider,
        account_id::text as account_id,
        label_id::text as label_id,
        order_ref::text as order_ref,

        -- text
        lower(order_ref_match::text) as order_ref_match,
        carrier::text as carrier,
        service::text as service,
        upper(currency::text) as currency,
        tracking_number::text as tracking_number,

        -- numerics (label currency)
        coalesce(label_cost::numeric, 0) as label_cost,
        coalesce(insurance_cost::numeric, 0) as insurance_cost,
        coalesce(other_fees::numeric, 0) as other_fees,
        coalesce(label_cost::numeric, 0)
            + coalesce(insurance_cost::numeric, 0)
            + coalesce(other_fees::numeric, 0) as total_cost,

        -- booleans
        coalesce(voided::boolean, false) as is_voided,

        -- timestamps (UTC) and dates
        created_at::timestamp as created_at,
        voided_at::timestamp as voided_at,
        _sdc_batched_at::timestamp as loaded_at,
        ship_date::date as ship_date

    from source

)

select * from renamed
