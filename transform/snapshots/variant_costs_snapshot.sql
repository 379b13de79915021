{% snapshot variant_costs_snapshot %}

{{
    config(
        unique_key=['shop', 'variant_id'],
        strategy='timestamp',
        updated_at='updated_at',
    )
}}

{#- Every unit cost a sync has seen, kept across builds (a full refresh leaves snapshots
    alone): a new version whenever a variant's `updated_at` moves, valid from it.
    `observed_at` is the start of the dbt run that first saw the version, so that the order
    lines it changes are costed again (int_shopify__order_lines). -#}

select
    shop,
    variant_id,
    product_id,
    unit_cost,
    unit_cost_currency,
    updated_at,
    '{{ run_started_at }}'::timestamptz as observed_at
from {{ ref('stg_shopify__product_variants') }}
where updated_at is not null

{% endsnapshot %}
