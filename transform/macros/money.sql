{#- Money: sums stay exact decimals; a report rounds to the cent only at the end. -#}
{% macro cents(expression) -%}
    round(({{ expression }})::numeric, 2)
{%- endmacro %}

{#- `numerator / denominator`, null when the denominator is 0 or null. -#}
{% macro safe_divide(numerator, denominator) -%}
    (({{ numerator }})::numeric / nullif(({{ denominator }})::numeric, 0))
{%- endmacro %}
