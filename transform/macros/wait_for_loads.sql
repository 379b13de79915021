{#- The first `on-run-start` hook: hold the run back until the loads it reports on are over.

    `bloom_suite.runner` starts the reports ahead of the loads' end, so that Meltano's and
    dbt's starts and the parse happen while the slowest tap still reads. Its session holds
    the advisory lock `BLOOM_LOADS_LOCK` in this database while any load runs and stays
    connected until the reports end; it tells dbt its backend pid in `BLOOM_LOADS_HOLDER`.
    The hook waits for the lock, then checks that the runner's session is still there: if it
    is gone (the runner died, or dbt writes to another database than target-postgres) the
    run stops before any model, rather than build on loads that may be half done.
    Without those variables (every other dbt run) the hook is an empty statement. -#}
{% macro wait_for_loads() -%}
    {%- set lock = env_var('BLOOM_LOADS_LOCK', '') if execute else '' -%}
    {%- set holder = env_var('BLOOM_LOADS_HOLDER', '') if execute else '' -%}
    {%- if lock and holder -%}
        {%- if lock | int | string != lock or holder | int | string != holder -%}
            {{ exceptions.raise_compiler_error(
                "BLOOM_LOADS_LOCK and BLOOM_LOADS_HOLDER must be integers (an advisory lock key and a backend pid), "
                ~ "not '" ~ lock ~ "' and '" ~ holder ~ "': they are set by bloom_suite.runner; unset them to run dbt on its own"
            ) }}
        {%- endif -%}
        {%- do run_query(
            "do $bloom$ begin perform pg_advisory_lock_shared(" ~ lock ~ "); "
            ~ "perform pg_advisory_unlock_shared(" ~ lock ~ "); end $bloom$"
        ) -%}
        {%- set present = run_query(
            "select count(*) from pg_stat_activity where pid = " ~ holder ~ " and datname = current_database()"
        ).columns[0].values()[0] -%}
        {%- if present == 0 -%}
            {{ exceptions.raise_compiler_error(
                "The reports were started ahead of the loads, but the session holding the loads back (pid "
                ~ holder ~ ") is not connected to database " ~ target.dbname ~ ": either the sync stopped before "
                ~ "its loads ended (its log says why; the next sync builds the reports), or dbt-postgres and "
                ~ "target-postgres point at different databases (set both to the same BLOOM_PG_* values)"
            ) }}
        {%- endif -%}
    {%- endif -%}
    select 1
{%- endmacro %}
