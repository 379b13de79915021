{#- Order in which merchant settings (seeds) apply: a row naming the shop beats a `*`
    row, and among those the latest `valid_from` on or before the day wins. Used as the
    `order by` of a `limit 1` lateral lookup into a seed. -#}
{% macro seed_precedence(seed_alias, valid_from_column='valid_from') -%}
    ({{ seed_alias }}.shop = '*'), {{ seed_alias }}.{{ valid_from_column }} desc
{%- endmacro %}

{#- Whether a seed row applies to `shop_expression`. -#}
{% macro seed_applies_to(seed_alias, shop_expression) -%}
    ({{ seed_alias }}.shop = {{ shop_expression }} or {{ seed_alias }}.shop = '*')
{%- endmacro %}
