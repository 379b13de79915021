{#- A model's `schema` config names its schema as is (`reports`), instead of dbt's default
    `<target schema>_<custom schema>`, so that the reports land where the apps and the
    end-to-end test look for them. Models without one use the profile's schema. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
