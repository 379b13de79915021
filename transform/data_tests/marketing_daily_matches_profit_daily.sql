-- marketing_daily has exactly profit_daily's days, with the same ad spend and sales.
select
    coalesce(marketing.shop, profit.shop) as shop,
    coalesce(marketing.date, profit.date) as date,
    marketing.ad_spend as marketing_ad_spend,
    profit.ad_spend as profit_ad_spend
from {{ ref('marketing_daily') }} as marketing
full outer join {{ ref('profit_daily') }} as profit
    on profit.shop = marketing.shop
    and profit.date = marketing.date
where marketing.shop is null
    or profit.shop is null
    or marketing.ad_spend <> profit.ad_spend
    or marketing.total_sales <> profit.total_sales
