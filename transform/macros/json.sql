{#- A raw array column as a jsonb array. target-postgres 0.8 lands a JSON-schema array as a
    Postgres array (`jsonb[]` for objects, `text[]` for strings), other loaders as `jsonb`;
    `to_jsonb` turns each into a jsonb array, and anything else (null, a JSON null, the
    empty stand-in's text null) becomes `[]`. -#}
{% macro as_jsonb_array(column) -%}
    (case
        when jsonb_typeof(to_jsonb({{ column }})) = 'array' then to_jsonb({{ column }})
        else '[]'::jsonb
    end)
{%- endmacro %}
