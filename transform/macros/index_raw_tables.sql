{#- Indexes on the raw tables for what incremental runs and daily tests filter on (the
    order's update time, a transaction's time, a label's bought-or-voided time, a
    customer's orders). target-postgres creates only primary keys, and without these every
    daily run reads every raw order (1.4 GB of jsonb at 1M orders) several times to find
    the few it needs. Run at the start of every dbt run (`on-run-start`); a table the
    loader has not created yet is skipped, an index that exists is left as it is. -#}
{% macro index_raw_tables() -%}
    {%- set wanted = [
        ('shopify', 'orders', 'updated', 'updated_at'),
        ('shopify', 'orders', 'customer', 'shop, customer_id'),
        ('shopify', 'transactions', 'processed', 'processed_at'),
        ('shopify', 'balance_transactions', 'date', 'transaction_date'),
        ('shopify', 'customers', 'updated', 'updated_at'),
        ('shipping', 'shipping_labels', 'changed', '(coalesce(voided_at, created_at))'),
    ] -%}
    {%- set statements = [] -%}
    {%- if execute -%}
        {%- for source_name, table_name, suffix, columns in wanted -%}
            {%- set relation = source(source_name, table_name) -%}
            {%- if adapter.get_relation(relation.database, relation.schema, relation.identifier) is not none -%}
                {%- do statements.append(
                    "create index if not exists " ~ adapter.quote('bloom_' ~ table_name ~ '_' ~ suffix)
                    ~ " on " ~ relation ~ " (" ~ columns ~ ")"
                ) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{- statements | join(';\n') -}}
{%- endmacro %}
