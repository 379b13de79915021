{#- The relation of a raw table, or an empty stand-in when the table does not exist.

    A merchant without ad or shipping accounts never gets `raw_ads` / `raw_shipping`
    tables (target-postgres creates a table on its first record), yet every report must
    still build. The stand-in has every column documented for the source table in
    `_<source>__sources.yml`, typed `text` and never a row (a subquery with an alias, so
    use it as `select * from {{ bloom_source(...) }}`); staging casts each column to its
    type, so the models downstream see the same columns either way.
    `source()` is always called, so the lineage graph is the same either way. -#}
{% macro bloom_source(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if not execute -%}
        {{ relation }}
    {%- else -%}
        {%- set found = adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier=relation.identifier
        ) -%}
        {%- if found is not none -%}
            {{ relation }}
        {%- else -%}
            {%- set columns = bloom_source_columns(source_name, table_name) -%}
            {{ log("Raw table " ~ relation ~ " does not exist: reading it as empty.", info=true) }}
            (select
            {%- for column in columns %}
                null::text as {{ adapter.quote(column) }}{{ "," if not loop.last }}
            {%- endfor %}
            where false) as {{ adapter.quote('empty_' ~ table_name) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- The columns documented for a source table in its sources yml, in their order. -#}
{% macro bloom_source_columns(source_name, table_name) -%}
    {%- set node = graph.sources.values()
        | selectattr('source_name', 'equalto', source_name)
        | selectattr('name', 'equalto', table_name) | first -%}
    {%- set columns = node.columns.keys() | list -%}
    {%- if columns | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "Source " ~ source_name ~ "." ~ table_name ~ " documents no columns; "
            ~ "list them in its sources yml so an absent table can be stood in for.") }}
    {%- endif -%}
    {{ return(columns) }}
{%- endmacro %}
