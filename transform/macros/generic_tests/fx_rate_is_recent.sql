{#- Fails (or warns) with every conversion whose rate (`column_name`, the day of the rate
    used) is more than `max_age_days` older than the day it converts (`day_column`): a
    currency_rates seed that is no longer kept up to date converts each new day at the last
    rate it has, however old. Rows converted without a rate (same currency) pass. -#}
{% test fx_rate_is_recent(model, column_name, day_column, max_age_days=31) %}
select *
from {{ model }}
where {{ column_name }} is not null
  and {{ day_column }} - {{ column_name }} > {{ max_age_days }}
{% endtest %}
