{#- What a data test reads. A daily run (`--vars '{test_scope: changed}'`, Meltano's
    `dbt-postgres:build-daily`) tests the rows it rewrote, not the whole history: a model
    names them in `meta.changed_rows`, a predicate in which `__since__` stands for the
    load time this run's reading of the raw tables began at (`daily_cutoff`) and `__this_run__` for this run's
    start (the `built_at` of the rows it wrote). Models without it,
    full builds (`--full-refresh`, whatever `test_scope`) and plain `dbt build` / `dbt test`
    test every row. The cut-off is a
    literal, so Postgres filters the raw orders before unnesting them. A test's own
    `where` config still applies. -#}
{% macro get_where_subquery(relation) -%}
    {%- set filters = [] -%}
    {%- if config.get('where') -%}
        {%- do filters.append(config.get('where')) -%}
    {%- endif -%}
    {%- if var('test_scope', 'all') == 'changed' and not flags.FULL_REFRESH -%}
        {%- set changed = changed_rows_predicate(relation) -%}
        {%- if changed -%}
            {%- do filters.append(changed) -%}
        {%- endif -%}
    {%- endif -%}
    {%- if filters -%}
        {%- do return("(select * from " ~ relation ~ " where (" ~ filters | join(") and (") ~ ")) dbt_subquery") -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}


{#- The `meta.changed_rows` predicate of the model behind `relation`, placeholders filled
    in; none when the model declares none (or at parse time). -#}
{% macro changed_rows_predicate(relation) -%}
    {%- if not execute -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set found = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.alias == relation.identifier
            and node.schema == relation.schema and node.config.meta.get('changed_rows') -%}
            {%- do found.append(node.config.meta['changed_rows']) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not found -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set predicate = found[0] -%}
    {%- if '__since__' in predicate -%}
        {%- set predicate = predicate | replace('__since__', daily_cutoff()) -%}
    {%- endif -%}
    {%- do return(predicate | replace('__this_run__', built_at())) -%}
{%- endmacro %}


{#- Where this run's reading of the raw orders began, as a timestamp literal: the newest
    `order_loaded_at` in int_shopify__order_sales from before this run, less `load_overlap`
    (its own cut-off: rows loaded after it are new; read after it was rebuilt, the cut-off is
    at most earlier: more rows tested, none missed). `-infinity` before anything is built. -#}
{% macro daily_cutoff() -%}
    {%- set sales = graph.nodes.values() | selectattr('name', 'equalto', 'int_shopify__order_sales') | first -%}
    {%- set table = adapter.get_relation(sales.database, sales.schema, sales.alias) -%}
    {%- set cutoff = none -%}
    {%- if table is not none -%}
        {%- set cutoff = query_literal(load_cutoff_query('order_loaded_at', table, "built_at < " ~ built_at())) -%}
    {%- endif -%}
    {%- do return(cutoff if cutoff is not none else "'-infinity'::timestamp") -%}
{%- endmacro %}
