{#- Money: sums stay exact decimals; a report rounds to the cent only at the end. -#}
{% macro cents(expression) -%}
    round(({{ expression }})::numeric, 2)
{%- endmacro %}

{#- `numerator / denominator`, null when the denominator is 0 or null. -#}
{% macro safe_divide(numerator, denominator) -%}
    (({{ numerator }})::numeric / nullif(({{ denominator }})::numeric, 0))
{%- endmacro %}

{#- `round(<column>, 2) as <column>` for each of `columns`, comma-separated. -#}
{% macro cents_columns(columns) -%}
    {%- for column in columns %}
        {{ cents(column) }} as {{ column }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}
