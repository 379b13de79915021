{#- The currency_rates seed as validity ranges: a rate holds from its day until the day of
    the next rate for the same pair (exclusive), so "the rate of that day, else the
    latest before it" becomes a range join. -#}
with

rates as (

    select rate_date, upper(from_currency) as from_currency, upper(to_currency) as to_currency, rate
    from {{ ref('currency_rates') }}

),

ranged as (

    select
        from_currency,
        to_currency,
        rate_date as valid_from,
        lead(rate_date) over (
            partition by from_currency, to_currency order by rate_date
        ) as valid_until,
        rate
    from rates

)

select * from ranged
