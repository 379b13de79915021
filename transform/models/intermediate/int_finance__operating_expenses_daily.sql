{#- Operating expenses per shop and day: a monthly amount spread evenly over the days of
    its month, a one-off amount on its day. Only days of the shop's report range. -#}
with

days as (

    select shop, date from {{ ref('int_shop__days') }}

),

expenses as (

    select * from {{ ref('operating_expenses') }}

),

daily as (

    select
        days.shop,
        days.date,
        expenses.name,
        expenses.kind,
        case
            when expenses.kind = 'monthly' then expenses.amount / extract(
                day from (date_trunc('month', days.date) + interval '1 month - 1 day')
            )
            else expenses.amount
        end as amount
    from days
    inner join expenses
        on {{ seed_applies_to('expenses', 'days.shop') }}
        and (
            (
                expenses.kind = 'monthly'
                and days.date >= date_trunc('month', expenses.start_date)
                and (
                    expenses.end_date is null
                    or days.date < date_trunc('month', expenses.end_date) + interval '1 month'
                )
            )
            or (expenses.kind = 'one_off' and days.date = expenses.start_date)
        )

)

select * from daily
