{#- In an incremental model with a per-shop `cutoffs (shop, since)` CTE: true for the rows
    whose `day_column` is on or after their shop's cutoff (every row of a shop that has
    no cutoff yet). -#}
{% macro on_or_after_cutoff(day_column, shop_column) -%}
    {{ day_column }} >= coalesce(
        (select cutoffs.since from cutoffs where cutoffs.shop = {{ shop_column }}),
        '-infinity'::date
    )
{%- endmacro %}
