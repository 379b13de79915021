{#- The derived figures of DEFINITIONS.md (the one place the formulas are written), from a
    relation that has gross_sales, discounts, returns, shipping_charged, taxes, cogs,
    shipping_costs, handling, transaction_fees and third_party_transaction_fees (unrounded),
    plus `other_costs`, more columns CM2 takes off. Shipping charged counts in CM2 against
    shipping costs unless the var `shipping_charged_in_margin` is false (DECISIONLOG.md). -#}
{% macro profit_figures(other_costs=[]) -%}
    gross_sales - discounts - returns as net_sales,
    gross_sales - discounts - returns + shipping_charged + taxes as total_sales,
    gross_sales - discounts - returns - cogs as cm1,
    gross_sales - discounts - returns - cogs
        {{- " + shipping_charged" if shipping_charged_in_margin() }}
        - shipping_costs - handling - transaction_fees - third_party_transaction_fees
        {%- for column in other_costs %} - {{ column }}{% endfor %} as cm2
{%- endmacro %}


{#- Whether shipping charged counts in CM2 (var `shipping_charged_in_margin`, default true). -#}
{% macro shipping_charged_in_margin() -%}
    {{- return(var('shipping_charged_in_margin', true) not in (false, 'false', 'False', 0)) -}}
{%- endmacro %}
