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
