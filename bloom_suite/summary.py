"""The short profit summary printed at the end of a demo run, read from ``reports.profit_daily``."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import psycopg

FIGURES = ("orders", "net_sales", "cogs", "ad_spend", "shipping_costs", "net_profit")

QUERY = """
    with latest as (select shop, max(date) as last_day from reports.profit_daily group by shop)
    select p.shop, min(p.date), max(p.date), {sums}
    from reports.profit_daily as p
    join latest on latest.shop = p.shop
    where p.date > latest.last_day - %(days)s
    group by p.shop
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
    """Sum ``profit_daily`` over each shop's last ``days`` days."""
    sums = ", ".join(f"coalesce(sum(p.{name}), 0)" for name in FIGURES)
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(QUERY.format(sums=sums), {"days": days}).fetchall()
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
