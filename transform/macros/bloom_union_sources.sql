{#- The union of raw tables of one shape, reading only those that exist.

    tap-adplatforms writes each platform's accounts and campaigns to its own table
    (`meta_ad_accounts`, `google_ads_ad_accounts`, ...), and a platform that is not
    configured never gets its tables. This reads the documented columns (the same list for
    every table, from `_<source>__sources.yml`) of each table that exists, `union all`, as
    a subquery with an alias (`select * from {{ bloom_union_sources(...) }}`). When none
    exists it is `bloom_source`'s empty stand-in of the first. `source()` is called for
    every table, so the lineage graph is the same whichever exist. -#}
{% macro bloom_union_sources(source_name, table_names) -%}
    {%- set relations = [] -%}
    {%- for table_name in table_names -%}
        {%- do relations.append(source(source_name, table_name)) -%}
    {%- endfor -%}
    {%- if not execute -%}
        {{ relations[0] }}
    {%- else -%}
        {%- set columns = bloom_source_columns(source_name, table_names[0]) -%}
        {%- set present = [] -%}
        {%- for relation in relations -%}
            {%- set table_name = table_names[loop.index0] -%}
            {%- if bloom_source_columns(source_name, table_name) != columns -%}
                {{ exceptions.raise_compiler_error(
                    "Sources " ~ source_name ~ "." ~ table_names[0] ~ " and " ~ source_name ~ "." ~ table_name
                    ~ " document different columns; a union needs the same list in the same order.") }}
            {%- endif -%}
            {%- if adapter.get_relation(
                database=relation.database, schema=relation.schema, identifier=relation.identifier
            ) is none -%}
                {{ log("Raw table " ~ relation ~ " does not exist (its platform is not configured): "
                       ~ "left out.", info=true) }}
            {%- else -%}
                {%- do present.append(relation) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if present | length == 0 -%}
            {{ bloom_source(source_name, table_names[0]) }}
        {%- else -%}
            (
            {%- for relation in present %}
            select
                {%- for column in columns %}
                {{ adapter.quote(column) }}{{ "," if not loop.last }}
                {%- endfor %}
            from {{ relation }}
            {%- if not loop.last %}
            union all
            {%- endif %}
            {%- endfor %}
            ) as {{ adapter.quote('unioned') }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
