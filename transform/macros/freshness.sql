{#- `dbt source freshness` measures each source's newest row against the reports' moment,
    `reports_as_of()`, instead of the warehouse's clock. The raw tables' `loaded_at_field`s are
    the sources' own times (an order's `updated_at`, a label's `created_at`, an ad day), written
    by the shop's or the platform's clock, not the loader's: a source is fresh when it holds what
    happened until a day ago. With `BLOOM_REPORTS_AS_OF` unset that moment is the run's start, as
    dbt's own macro has it; the tests set it to the sandbox's clock, which they move days ahead
    (`bloom-sync status` reads the result from `sources.json`). Overrides dbt's
    `collect_freshness` for Postgres, dbt's documented way to change a global macro. -#}
{% macro postgres__collect_freshness(source, loaded_at_field, filter) %}
  {% call statement('collect_freshness', fetch_result=True, auto_begin=False) -%}
    select
      max({{ loaded_at_field }}) as max_loaded_at,
      {{ reports_as_of() }} as snapshotted_at
    from {{ source }}
    {% if filter %}
    where {{ filter }}
    {% endif %}
  {% endcall %}
  {{ return(load_result('collect_freshness')) }}
{% endmacro %}
