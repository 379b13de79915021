with

source as (

    select * from {{ bloom_source('bloom_sync', 'source_history') }}

),

renamed as (

    select
        -- ids
        plugin::text as plugin,
        stream::text as stream,
        nullif(shop::text, '') as shop,
        nullif(lower(platform::text), '') as platform,
        nullif(account_id::text, '') as account_id,

        -- numbers
        months::integer as months,
        months_pending::integer as months_pending,

        -- booleans: a tap that cannot count the months says so with a null and a pending end
        coalesce(months_pending::integer > 0, nullif(pending_to::text, '') is not null) as is_pending,

        -- the pending span: ad platforms say account days, the other taps UTC times
        case when length(pending_from::text) = 10 then pending_from::date end as pending_from_day,
        case when length(pending_to::text) = 10 then pending_to::date end as pending_to_day,
        case when length(pending_from::text) > 10 then {{ iso_to_utc('pending_from::text') }} end as pending_from_at,
        case when length(pending_to::text) > 10 then {{ iso_to_utc('pending_to::text') }} end as pending_to_at,

        -- timestamps
        recorded_at::timestamptz as recorded_at

    from source

)

select * from renamed
