{#- The shops whose Shopify order history is still pending (sync_history): a customer's
    first order may be older than the orders loaded, so new against returning, cohorts and
    lifetime figures may still move. -#}
{% macro shops_with_orders_history_pending() -%}
    select distinct shop from {{ ref('int_sync__source_history') }}
    where source = 'shopify'
        and stream = 'orders'
        and is_pending
        and shop is not null
{%- endmacro %}

{#- A post-hook for a model incremental by customer: its rows' `is_final` follows the
    shop's order history after every build, rebuilt rows or not (the flag of a customer
    built while the history was pending turns true the run it is in). -#}
{% macro refresh_orders_history_final(relation) -%}
update {{ relation }}
set is_final = shop not in ({{ shops_with_orders_history_pending() }})
where is_final is distinct from (shop not in ({{ shops_with_orders_history_pending() }}))
{%- endmacro %}
