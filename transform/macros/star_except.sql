{#- The columns of `relation` except `excluded`, each prefixed with `alias.`, comma-separated
    (`select *` less a few, e.g. the `built_at` stamp of an upstream table). -#}
{% macro star_except(relation, excluded, alias) -%}
    {%- if not execute -%}
        {{- return('*') -}}
    {%- endif -%}
    {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | reject('in', excluded) -%}
    {%- for name in names %}
        {{ alias }}.{{ adapter.quote(name) }}{{ "," if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
