{#- Data tests read the staging and intermediate views, whose jsonb unnesting makes
    Postgres overestimate rows and switch JIT compilation on: seconds per test for
    nothing. Every test query turns JIT off for its session first (the marts do the same
    in a pre-hook), then runs dbt's own test query. -#}
{% macro postgres__get_test_sql(main_sql, fail_calc, warn_if, error_if, limit) -%}
    set jit = off;
    {{ dbt.default__get_test_sql(main_sql, fail_calc, warn_if, error_if, limit) }}
{%- endmacro %}
