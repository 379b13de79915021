"""The short profit summary printed at the end of a demo run, read from ``reports.profit_daily``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal

import psycopg

FIGURES = ("orders", "net_sales", "cogs", "ad_spend", "shipping_costs", "net_profit")

# The last days end on each shop's today: the current day in its own time zone (the reports'
# own rule; BLOOM_REPORTS_AS_OF moves "now" as it does for dbt), not on the newest report row,
# which is older when nothing happened yet today.
QUERY = """
    with today as (
        select p.shop, (coalesce(%(as_of)s::timestamptz, now())
            at time zone coalesce(max(nullif(s.iana_timezone, '')), 'UTC'))::date as today
        from (select distinct shop from reports.profit_daily) as p
        left join raw_shopify.shop as s on s.shop = p.shop
        group by p.shop
    )
    select p.shop, today.today - %(days)s + 1, today.today, {sums}
    from reports.profit_daily as p
    join today on today.shop = p.shop
    where p.date > today.today - %(days)s and p.date <= today.today
    group by p.shop, today.today
    order by p.shop
"""


@dataclass
class ShopSummary:
    """One shop's figures over the last days of its report."""

    shop: str
    first_day: object
    last_day: object
    figures: dict[str, Decimal]


def read_summary(dsn: str, days: int = 30) -> list[ShopSummary]:
    """Sum ``profit_daily`` over each shop's last ``days`` days, up to and including its today."""
    sums = ", ".join(f"coalesce(sum(p.{name}), 0)" for name in FIGURES)
    with psycopg.connect(dsn) as conn:
        params = {"days": days, "as_of": os.environ.get("BLOOM_REPORTS_AS_OF") or None}
        rows = conn.execute(QUERY.format(sums=sums), params).fetchall()
    return [
        ShopSummary(shop=row[0], first_day=row[1], last_day=row[2], figures=dict(zip(FIGURES, row[3:], strict=True)))
        for row in rows
    ]


def format_summary(summaries: list[ShopSummary], days: int = 30) -> str:
    """A small text table, one block per shop."""
    lines = []
    for summary in summaries:
        lines.append(f"Profit summary for {summary.shop}, last {days} days ({summary.first_day} to {summary.last_day})")
        for name in FIGURES:
            value = summary.figures[name]
            shown = f"{value:>14,.0f}" if name == "orders" else f"{value:>14,.2f}"
            lines.append(f"  {name.replace('_', ' '):<16}{shown}")
    return "\n".join(lines) if lines else "No report rows yet: reports.profit_daily is empty."
