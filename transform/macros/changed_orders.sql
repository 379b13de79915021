{#- The orders an incremental run recomputes: those of `orders_model` updated since `since`
    and, for each of `also`, those with a refund (`refunds`) or a sale or capture (`fees`)
    processed since then, or a label (`labels`) bought or voided since then (a label does
    not update its order in Shopify). One `select shop, order_id` of distinct rows. -#}
{% macro changed_orders(since, orders_model, also=[]) -%}
    select shop, order_id from {{ ref(orders_model) }}
    where updated_at >= {{ since }}
    {%- if 'refunds' in also %}
    union
    select shop, order_id from {{ ref('int_shopify__refunds') }}
    where processed_at >= {{ since }}
    {%- endif %}
    {%- if 'fees' in also %}
    union
    select shop, order_id from {{ ref('int_shopify__transaction_fees') }}
    where processed_at >= {{ since }}
    {%- endif %}
    {%- if 'labels' in also %}
    union
    select shop, order_id from {{ ref('int_shipping__labels') }}
    where order_id is not null
        and coalesce(voided_at, created_at) >= {{ since }}
    {%- endif %}
{%- endmacro %}
