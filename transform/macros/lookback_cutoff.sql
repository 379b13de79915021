{#- The cut-off of an incremental run as a SQL literal of `type`: the value `query` (one
    row, one column, typically an aggregate over `this`) returns, read at compile time;
    none on a full build, before the table exists, or when the query returns null (then
    the model filters nothing). A literal, unlike a scalar subquery, lets Postgres push the
    filter down into the views below, so that only recent orders get unnested. -#}
{% macro lookback_cutoff(query, type='timestamp') -%}
    {%- if execute and is_incremental() -%}
        {{- return(query_literal(query, type)) -}}
    {%- endif -%}
    {{- return(none) -}}
{%- endmacro %}


{#- The usual cut-off: the newest `expression` already built in `this`, less `lookback_days`. -#}
{% macro lookback_since(expression) -%}
    {{- return(lookback_cutoff(lookback_query(expression, this))) -}}
{%- endmacro %}


{#- `select max(expression) - lookback_days from relation`. -#}
{% macro lookback_query(expression, relation) -%}
    {{- return("select max(" ~ expression ~ ") - interval '" ~ var('lookback_days') ~ " days' from " ~ relation) -}}
{%- endmacro %}


{#- What `query` returns (one row, one column) as a SQL literal of `type`; none when null. -#}
{% macro query_literal(query, type='timestamp') -%}
    {%- set value = run_query("select (" ~ query ~ ")::text").columns[0].values()[0] -%}
    {%- if value is not none -%}
        {{- return("'" ~ value ~ "'::" ~ type) -}}
    {%- endif -%}
    {{- return(none) -}}
{%- endmacro %}
