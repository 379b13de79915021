{#- Indexes on the raw tables for what incremental runs and daily tests filter on (the
    load time of orders, transactions, balance transactions and labels; a customer's and a
    transaction's order). target-postgres creates only primary keys, and without these every
    daily run reads every raw order (1.4 GB of jsonb at 1M orders) several times to find
    the few it needs. Run at the start of every dbt run (`on-run-start`); a table the
    loader has not created yet, or one without a column named here, is skipped, and an
    index that exists is left as it is. -#}
{% macro index_raw_tables() -%}
    {#- source, table, index name suffix, indexed expression, the columns it reads -#}
    {%- set wanted = [
        ('shopify', 'orders', 'loaded', '_sdc_batched_at', ['_sdc_batched_at']),
        ('shopify', 'orders', 'customer', 'shop, customer_id', ['shop', 'customer_id']),
        ('shopify', 'transactions', 'loaded', '_sdc_batched_at', ['_sdc_batched_at']),
        ('shopify', 'transactions', 'order', 'shop, order_id', ['shop', 'order_id']),
        ('shopify', 'balance_transactions', 'loaded', '_sdc_batched_at', ['_sdc_batched_at']),
        ('shopify', 'customers', 'loaded', '_sdc_batched_at', ['_sdc_batched_at']),
        ('shipping', 'shipping_labels', 'loaded', '_sdc_batched_at', ['_sdc_batched_at']),
    ] -%}
    {%- set statements = [] -%}
    {%- if execute -%}
        {%- for source_name, table_name, suffix, expression, reads in wanted -%}
            {%- set relation = source(source_name, table_name) -%}
            {%- set found = adapter.get_relation(relation.database, relation.schema, relation.identifier) -%}
            {%- if found is not none -%}
                {%- set columns = adapter.get_columns_in_relation(found) | map(attribute='name') | list -%}
                {%- if reads | reject('in', columns) | list | length == 0 -%}
                    {#- A dbt user that does not own the loader's tables cannot index them:
                        the run goes on without the index (slower daily runs), with a warning. -#}
                    {%- do statements.append(
                        "do $bloom$ begin create index if not exists "
                        ~ adapter.quote('bloom_' ~ table_name ~ '_' ~ suffix)
                        ~ " on " ~ relation ~ " (" ~ expression ~ "); "
                        ~ "exception when insufficient_privilege then raise warning "
                        ~ "'Cannot index " ~ relation | replace("'", "''") ~ " (not its owner): "
                        ~ "daily dbt runs read the whole table'; end $bloom$"
                    ) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{- statements | join(';\n') -}}
{%- endmacro %}
