"""The short profit summary printed at the end of a demo run, read from ``reports.profit_daily``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from decimal import Decimal

import psycopg

# Every figure between net sales and net profit, with the sign it enters net profit with, so
# that the lines printed add up (DEFINITIONS.md). Shipping charged counts only where CM2
# counts it (the dbt var `shipping_charged_in_margin`): the summary sees it in `cm2`.
# What CM2 takes off CM1.
CM2_COSTS = (
    "shipping_costs",
    "unattributed_shipping_costs",
    "handling",
    "transaction_fees",
    "third_party_transaction_fees",
)
COSTS = ("cogs", *CM2_COSTS, "ad_spend", "operating_expenses")
SUMMED = ("orders", "net_sales", "shipping_charged", *COSTS, "cm1", "cm2", "net_sales_with_cost_recorded")
LABELS = {
    "unattributed_shipping_costs": "unattributed shipping",
    "third_party_transaction_fees": "third-party fees",
}

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


# Sources whose history is still pending, per shop (reports.sync_history).
PENDING_HISTORY = """
    select shop, source, months_loaded, months
    from reports.sync_history
    where not is_complete
    order by shop, array_position(array['shopify', 'ads', 'shipping'], source), source
"""


@dataclass
class ShopSummary:
    """One shop's figures over the last days of its report, and the history still pending."""

    shop: str
    first_day: object
    last_day: object
    figures: dict[str, Decimal]
    #: source -> (history months loaded, months in all), for the sources whose history is pending
    pending: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)

    def provisional(self) -> str | None:
        """The line saying how much history is loaded while some is pending, else None."""
        if not self.pending:
            return None
        loaded = [n for n, _ in self.pending.values()]
        months = [m for _, m in self.pending.values()]
        per_source = ", ".join(
            f"{source} {n if n is not None else '?'} of {m or '?'}" for source, (n, m) in self.pending.items()
        )
        if None in loaded or None in months:
            return f"provisional: history still loading ({per_source})"
        return f"provisional: history {min(loaded)} of {max(months)} months loaded ({per_source})"

    @property
    def shipping_charged_in_margin(self) -> bool:
        """Whether CM2 counts shipping charged (what it holds beyond CM1 less its costs is closer to it than to 0)."""
        f = self.figures
        rest = f["cm2"] - f["cm1"] + sum(f[name] for name in CM2_COSTS)
        return abs(rest - f["shipping_charged"]) < abs(rest)

    def lines(self) -> list[tuple[str, Decimal]]:
        """(figure, signed amount) from net sales down, and net profit as their sum."""
        f = self.figures
        lines = [("net_sales", f["net_sales"])]
        for name in COSTS:
            lines.append((name, -f[name]))
            if name == "cogs" and self.shipping_charged_in_margin:
                lines.append(("shipping_charged", f["shipping_charged"]))
        return [*lines, ("net_profit", sum((amount for _, amount in lines), Decimal(0)))]

    @property
    def cost_coverage(self) -> Decimal | None:
        """Share of net sales whose lines have a unit cost (None without net sales)."""
        net = self.figures["net_sales"]
        return self.figures["net_sales_with_cost_recorded"] / net if net else None


def read_summary(dsn: str, days: int = 30) -> list[ShopSummary]:
    """Sum ``profit_daily`` over each shop's last ``days`` days, up to and including its today."""
    sums = ", ".join(f"coalesce(sum(p.{name}), 0)" for name in SUMMED)
    with psycopg.connect(dsn) as conn:
        params = {"days": days, "as_of": os.environ.get("BLOOM_REPORTS_AS_OF") or None}
        rows = conn.execute(QUERY.format(sums=sums), params).fetchall()
        pending = conn.execute(PENDING_HISTORY).fetchall()
    summaries = [
        ShopSummary(shop=row[0], first_day=row[1], last_day=row[2], figures=dict(zip(SUMMED, row[3:], strict=True)))
        for row in rows
    ]
    for summary in summaries:
        summary.pending = {source: (loaded, months) for shop, source, loaded, months in pending if shop == summary.shop}
    return summaries


def format_summary(summaries: list[ShopSummary], days: int = 30) -> str:
    """A small text table, one block per shop: every figure of net profit, then the cost coverage."""
    lines = []
    for summary in summaries:
        lines.append(f"Profit summary for {summary.shop}, last {days} days ({summary.first_day} to {summary.last_day})")
        lines.append(f"  {'orders':<22}{summary.figures['orders']:>14,.0f}")
        for name, amount in summary.lines():
            lines.append(f"  {LABELS.get(name, name.replace('_', ' ')):<22}{amount:>14,.2f}")
        provisional = summary.provisional()
        if provisional:
            lines.append(f"  {provisional}: figures needing it (new customers, CAC, cohorts) may still change")
        coverage = summary.cost_coverage
        if coverage is not None and coverage < 1:
            missing = summary.figures["net_sales"] - summary.figures["net_sales_with_cost_recorded"]
            lines.append(
                f"  warning: {missing:,.2f} of net sales ({1 - coverage:.1%}) sold without a unit cost count no COGS:"
                " enter their costs in Shopify (reports.missing_costs lists them)"
            )
    return "\n".join(lines) if lines else "No report rows yet: reports.profit_daily is empty."
