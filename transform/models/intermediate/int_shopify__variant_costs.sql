{#- Each variant's unit cost over time, one row per version seen by a sync
    (snapshots/variant_costs_snapshot.sql): valid from the variant's `updated_at` that
    brought it until the next version. The first version seen also covers the time before
    it: no sync saw an earlier cost, so the earliest known one stands in for it. -#}

with

versions as (

    select * from {{ ref('variant_costs_snapshot') }}

),

final as (

    select
        shop,
        variant_id,
        unit_cost,
        case
            when row_number() over (partition by shop, variant_id order by dbt_valid_from) = 1
                then '-infinity'::timestamp
            else dbt_valid_from
        end as valid_from,
        coalesce(dbt_valid_to, 'infinity'::timestamp) as valid_to,
        observed_at
    from versions

)

select * from final
