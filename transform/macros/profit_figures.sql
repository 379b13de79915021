{#- The derived figures of DEFINITIONS.md, from a relation that has gross_sales,
    discounts, returns, shipping_charged, taxes, cogs, shipping_costs, handling and
    transaction_fees (unrounded): the one place the formulas are written. -#}
{% macro profit_figures() -%}
    gross_sales - discounts - returns as net_sales,
    gross_sales - discounts - returns + shipping_charged + taxes as total_sales,
    gross_sales - discounts - returns - cogs as cm1,
    gross_sales - discounts - returns - cogs - shipping_costs - handling - transaction_fees as cm2
{%- endmacro %}
