{{ config(materialized='table') }}

{#- How much of each source's history is loaded, per shop: what the taps said after their
    last successful runs (int_sync__source_history). A source is complete when none of its
    streams and accounts owes a month; until then its reports are provisional on the days
    the pending span covers (profit_daily.provisional_reason). Everything outside
    [pending_from, pending_to) that the sync covers is loaded. -#}

with

history as (

    select * from {{ ref('int_sync__source_history') }}
    where shop is not null

),

per_source as (

    select
        shop,
        source,
        max(months) as months,
        case when not bool_or(is_pending and months_pending is null) then min(months - months_pending) end
            as months_loaded,
        case when not bool_or(is_pending and months_pending is null) then max(months_pending) end as months_pending,
        bool_or(is_pending) as is_pending,
        case when not bool_or(is_pending and pending_from_day is null and pending_from_at is null) then
            min(coalesce(pending_from_day, pending_from_at::date)) filter (where is_pending)
        end as pending_from,
        max(coalesce(pending_to_day, pending_to_at::date)) filter (where is_pending) as pending_to,
        string_agg(distinct stream, ', ') filter (where is_pending) as streams_pending,
        max(recorded_at) as recorded_at
    from history
    group by shop, source

),

final as (

    select
        shop,
        source,
        not is_pending as is_complete,
        months,
        months_loaded,
        months_pending,
        pending_from,
        pending_to,
        streams_pending,
        recorded_at
    from per_source

)

select * from final
