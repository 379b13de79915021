{#- Time helpers. Raw `date-time` columns are `timestamp without time zone` holding UTC;
    nested timestamps inside jsonb are ISO-8601 strings with an offset. -#}

{#- The shop-local calendar day of a UTC timestamp, in the IANA zone `tz`. -#}
{% macro local_date(utc_timestamp, tz) -%}
    {{ return(adapter.dispatch('local_date', 'bloom')(utc_timestamp, tz)) }}
{%- endmacro %}

{% macro postgres__local_date(utc_timestamp, tz) -%}
    ((({{ utc_timestamp }}) at time zone 'UTC') at time zone {{ tz }})::date
{%- endmacro %}

{#- An ISO-8601 string (with its offset) as a UTC `timestamp without time zone`. -#}
{% macro iso_to_utc(text_expression) -%}
    {{ return(adapter.dispatch('iso_to_utc', 'bloom')(text_expression)) }}
{%- endmacro %}

{% macro postgres__iso_to_utc(text_expression) -%}
    (nullif({{ text_expression }}, '')::timestamptz at time zone 'UTC')
{%- endmacro %}

{#- The moment the reports are built as of: the start of the dbt run, unless
    `BLOOM_REPORTS_AS_OF` (an ISO-8601 time with its offset) names another one, for data
    from a source with its own clock (the sandbox's, moved forward by the tests). A literal,
    so that every model of a run agrees on it. -#}
{% macro reports_as_of() -%}
    {%- set as_of = env_var('BLOOM_REPORTS_AS_OF', '') or run_started_at.isoformat() -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.]+(Z|[+-][0-9:]+)', as_of) -%}
        {{ exceptions.raise_compiler_error(
            "BLOOM_REPORTS_AS_OF must be an ISO-8601 time with its offset, e.g. 2026-12-07T05:00:00Z; got "
            ~ as_of) }}
    {%- endif -%}
    {{ return(adapter.dispatch('reports_as_of', 'bloom')(as_of)) }}
{%- endmacro %}

{% macro postgres__reports_as_of(as_of) -%}
    '{{ as_of }}'::timestamptz
{%- endmacro %}

{#- The shop-local "today" of the run: the calendar day, in the IANA zone `tz`, of
    `reports_as_of()`. No report has a day after it. -#}
{% macro shop_today(tz) -%}
    {{ return(adapter.dispatch('shop_today', 'bloom')(tz)) }}
{%- endmacro %}

{% macro postgres__shop_today(tz) -%}
    ({{ reports_as_of() }} at time zone {{ tz }})::date
{%- endmacro %}

{#- Deletes the rows of `relation` (keyed by `shop` and `date`) dated after their shop's
    today: a post-hook for the incremental daily reports, which rewrite only the days of
    the current range. -#}
{% macro delete_days_after_shop_today(relation) -%}
delete from {{ relation }} as built
using {{ ref('stg_shopify__shop') }} as shops
where shops.shop = built.shop
    and built.date > {{ shop_today('shops.iana_timezone') }}
{%- endmacro %}
