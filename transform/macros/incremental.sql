{#- How incremental models find what changed. The first tables after the raw ones read
    the rows loaded since their newest load built (`loaded_since`); every incremental table
    stamps the rows it writes with `built_at`, and the models downstream of it recompute the
    keys stamped after their own newest `built_at` (`built_since`, `changed_orders`). -#}


{#- The cut-off of an incremental run as a SQL literal of `type`: the value `query` (one
    row, one column, typically an aggregate over `this`) returns, read at compile time;
    none on a full build, before the table exists, or when the query returns null (then
    the model filters nothing). A literal, unlike a scalar subquery, lets Postgres push the
    filter down into the views below, so that only recent orders get unnested. -#}
{% macro lookback_cutoff(query, type='timestamp') -%}
    {%- if execute and is_incremental() -%}
        {{- return(query_literal(query, type)) -}}
    {%- endif -%}
    {{- return(none) -}}
{%- endmacro %}


{#- The load cut-off of an incremental run: rows whose `column` (a load time, target-postgres'
    `_sdc_batched_at`: the start of the row's batch, which the loader commits whole) is after
    the newest one already built into `this`, less `load_overlap`, are new to the model. Load
    time, unlike an event time, also finds an old order loaded late (a history backfill, a
    tap that caught up after a failure). -#}
{% macro loaded_since(column='loaded_at') -%}
    {%- if not built_has_column(column) -%}
        {{- return(none) -}}
    {%- endif -%}
    {{- return(lookback_cutoff(load_cutoff_query(column, this))) -}}
{%- endmacro %}


{#- `select max(column) - load_overlap from relation [where where]`: a load cut-off query
    (the daily tests' cut-off reads it too). -#}
{% macro load_cutoff_query(column, relation, where=none) -%}
    {{- return("select max(" ~ column ~ ") - interval '" ~ var('load_overlap') ~ "' from " ~ relation
        ~ (" where " ~ where if where else "")) -}}
{%- endmacro %}


{#- The build cut-off of an incremental run: the newest `built_at` in `this` (`_built_at` in
    the report tables, where bookkeeping columns start with `_`). Rows of an upstream
    incremental table stamped later are new to the model. -#}
{% macro built_since(stamp='built_at') -%}
    {%- if not built_has_column(stamp) -%}
        {{- return(none) -}}
    {%- endif -%}
    {{- return(lookback_cutoff("select max(" ~ stamp ~ ") from " ~ this, type='timestamptz')) -}}
{%- endmacro %}


{#- Whether `this` exists with `column`: a table built before the column was added is
    recomputed whole once (its incremental run reads like a full one). -#}
{% macro built_has_column(column) -%}
    {%- if not (execute and is_incremental()) -%}
        {{- return(false) -}}
    {%- endif -%}
    {{- return(column in (adapter.get_columns_in_relation(this) | map(attribute='name') | list)) -}}
{%- endmacro %}


{#- What `query` returns (one row, one column) as a SQL literal of `type`; none when null. -#}
{% macro query_literal(query, type='timestamp') -%}
    {%- set value = run_query("select (" ~ query ~ ")::text").columns[0].values()[0] -%}
    {%- if value is not none -%}
        {{- return("'" ~ value ~ "'::" ~ type) -}}
    {%- endif -%}
    {{- return(none) -}}
{%- endmacro %}


{#- The orders an incremental run recomputes: those with a row in one of `models` (upstream
    incremental tables with `shop`, `order_id` and the stamp `stamp`) written after `since`,
    the run's build cut-off (`built_since()`). One `select shop, order_id` of distinct rows. -#}
{% macro changed_orders(since, models, stamp='built_at') -%}
    {%- for model in models %}
    select shop, order_id from {{ ref(model) }}
    where {{ stamp }} > {{ since }}
        and order_id is not null
    {%- if not loop.last %}
    union
    {%- endif %}
    {%- endfor %}
{%- endmacro %}


{#- Whether `query` returns a row (read at compile time). -#}
{% macro query_exists(query) -%}
    {{- return(run_query("select exists (" ~ query ~ ")").columns[0].values()[0]) -}}
{%- endmacro %}


{#- `built_at` of the rows a run writes: the run's start. -#}
{% macro built_at() -%}
    '{{ run_started_at }}'::timestamptz
{%- endmacro %}


{#- The final select of a model whose run recomputes rows that mostly come back the same
    (its source is re-read every day): every row of the CTE `final`, stamped `built_at` with
    the run's start if it is new or any of `compared` differs from the row already built
    (`this`, joined on `keys`), else with the stamp it had, so that the models downstream
    skip it. `since` is the model's cut-off (none on a full build: every row is new). -#}
{% macro select_stamped_if_changed(compared, keys, since) -%}
select
    final.*,
    {%- if since %}
    case
        when built.built_at is null
            or ({% for column in compared %}final.{{ column }}{{ ", " if not loop.last }}{% endfor %})
            is distinct from ({% for column in compared %}built.{{ column }}{{ ", " if not loop.last }}{% endfor %})
            then {{ built_at() }}
        else built.built_at
    end as built_at
    {%- else %}
    {{ built_at() }} as built_at
    {%- endif %}
from final
{%- if since %}
left join {{ this }} as built
    on {% for key in keys %}built.{{ key }} = final.{{ key }}{{ " and " if not loop.last }}{% endfor %}
{%- endif %}
{%- endmacro %}


{#- The orders whose lines `lines` (int_shopify__order_lines, or int_shopify__refund_lines
    downstream of it; the caller reads it already) rebuilt after `built` (the calling model's
    build cut-off) without a load since `since` (its load cut-off): a unit cost seen later
    applies to them (a changed cost, or the first cost of a variant synced after its orders).
    A predicate on `shop, order_id` to add to the load filter with `or`; none when there are
    none (the usual run), so that the load cut-off alone filters and stays a literal. -#}
{% macro recosted_orders(lines, since, built) -%}
    {%- if not (execute and since and built) -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set found = "select shop, order_id from " ~ lines
        ~ " where built_at > " ~ built ~ " and order_loaded_at <= " ~ since -%}
    {%- if query_exists(found) -%}
        {{- return("(shop, order_id) in (" ~ found ~ ")") -}}
    {%- endif -%}
    {{- return(none) -}}
{%- endmacro %}
