"""Every figure of a `profit_daily` day, from the sandbox's truth and the merchant's seeds.

The sandbox knows its store, ad accounts and shipping accounts; the merchant's settings
(shipping estimates, handling, operating expenses, exchange rates) are the seeds of
`transform/seeds/`. This module applies transform/DEFINITIONS.md to both, in Python and
independently of dbt, so the end-to-end tests compare every figure that goes into net
profit, and net profit itself, to the cent.
"""

from __future__ import annotations

import calendar
import csv
import functools
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

SEEDS = Path(__file__).resolve().parents[1] / "transform" / "seeds"
AD_PLATFORMS = ("meta", "google_ads", "tiktok")
SHIPPING_PROVIDERS = ("shipstation", "shippo")
CENT = Decimal("0.01")
# The sandbox's figures per day (sales, COGS, fees, payouts), as /_sandbox/truth gives them.
SALES_FIGURES = (
    "orders", "gross_sales", "discounts", "returns", "net_sales", "shipping_charged",
    "taxes", "total_sales", "cogs", "net_sales_with_cost_recorded", "transaction_fees",
    "third_party_transaction_fees", "payouts",
)  # fmt: skip
# The figures that also need the merchant's settings, the ad and the shipping accounts.
PROFIT_FIGURES = (
    "shipping_costs", "unattributed_shipping_costs", "handling", "ad_spend",
    "operating_expenses", "cm1", "cm2", "cm3", "net_profit",
)  # fmt: skip
FIGURES = SALES_FIGURES + PROFIT_FIGURES


@functools.cache
def read_seed(name: str) -> tuple[dict[str, str], ...]:
    """The seed's rows, read once per test session (callers only read them)."""
    with (SEEDS / f"{name}.csv").open() as seed:
        return tuple(csv.DictReader(seed))


def seed_row(rows: Sequence[dict[str, str]], shop: str, day: str, country: str | None = None) -> dict[str, str] | None:
    """The row that applies to ``shop`` on ``day``: a country row before a ``*`` one (when
    ``country`` is given), a shop row before a ``*`` one, then the latest ``valid_from``."""
    applies = [
        row for row in rows
        if row["shop"] in (shop, "*") and row["valid_from"] <= day
        and (country is None or row["country_code"] in (country, "*"))
    ]  # fmt: skip
    if not applies:
        return None
    latest_first = sorted(applies, key=lambda row: row["valid_from"], reverse=True)
    return min(latest_first, key=lambda row: (country is not None and row["country_code"] == "*", row["shop"] == "*"))


def merchant_rate(from_currency: str, to_currency: str, day: str) -> Decimal:
    """The merchant's rate (seed `currency_rates`) of ``day``: the latest dated on or before it."""
    if from_currency == to_currency:
        return Decimal(1)
    rates = [row for row in read_seed("currency_rates") if (row["from_currency"], row["to_currency"]) == (
        from_currency, to_currency) and row["rate_date"] <= day]  # fmt: skip
    return Decimal(max(rates, key=lambda row: row["rate_date"])["rate"])


def shop_today(truth: dict[str, Any]) -> str:
    now = datetime.fromisoformat(truth["now"].replace("Z", "+00:00"))
    return now.astimezone(ZoneInfo(truth["shop"]["iana_timezone"])).date().isoformat()


def ad_spend_by_platform_day(truth: dict[str, Any]) -> dict[tuple[str, str], Decimal]:
    """Each platform's spend per account day, converted at the merchant's rates, unrounded
    (later account days than the shop's today included)."""
    shop_currency = truth["shop"]["currency"]
    spend: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for platform in AD_PLATFORMS:
        for account in truth[platform].values():
            for day, amount in account["spend"].items():
                spend[(platform, day)] += Decimal(amount) * merchant_rate(account["currency"], shop_currency, day)
    return spend


def operating_expenses(shop: str, day: str) -> Decimal:
    """Every `operating_expenses` row that applies on ``day``: monthly amounts spread evenly
    over the days of their month, one-off amounts on their day."""
    total = Decimal(0)
    for row in read_seed("operating_expenses"):
        if row["shop"] not in (shop, "*"):
            continue
        if row["kind"] == "one_off":
            total += Decimal(row["amount"]) if day == row["start_date"] else 0
        elif row["start_date"][:7] <= day[:7] and (not row["end_date"] or day[:7] <= row["end_date"][:7]):
            year, month = int(day[:4]), int(day[5:7])
            total += Decimal(row["amount"]) / calendar.monthrange(year, month)[1]
    return total


def matched_labels(truth: dict[str, Any]) -> tuple[dict[str, int], dict[str, Decimal]]:
    """Per order name, over both providers: its non-voided labels, and their cost (shop currency)."""
    labels: dict[str, int] = defaultdict(int)
    label_cost: dict[str, Decimal] = defaultdict(Decimal)
    for provider in SHIPPING_PROVIDERS:
        assert truth[provider]["currency"] == truth["shop"]["currency"]
        for name, count in truth[provider]["label_count_by_order"].items():
            labels[name] += count
        for name, cost in truth[provider]["label_cost_by_order"].items():
            label_cost[name] += Decimal(cost)
    return labels, label_cost


def order_costs(truth: dict[str, Any], shop: str) -> dict[str, dict[str, Decimal]]:
    """Shipping costs and handling per shop-local day of the orders' processing."""
    labels, label_cost = matched_labels(truth)
    rules, handling_rates = read_seed("shipping_cost_rules"), read_seed("handling_costs")
    days: dict[str, dict[str, Decimal]] = defaultdict(lambda: {"shipping_costs": Decimal(0), "handling": Decimal(0)})
    for name, order in truth["orders"].items():
        day = days[order["day"]]
        if labels[name]:
            day["shipping_costs"] += label_cost[name]
            shipped = True
        else:
            shipped = not order["cancelled_unfulfilled"]
            rule = seed_row(rules, shop, order["day"], order["country"] or "*")
            if shipped and order["shippable_units"] and rule:
                day["shipping_costs"] += (
                    Decimal(rule["per_order"]) + Decimal(rule["per_item"]) * order["shippable_units"]
                )
        rate = seed_row(handling_rates, shop, order["day"])
        if shipped and rate:
            day["handling"] += Decimal(rate["per_order"]) + Decimal(rate["per_item"]) * order["units"]
    return days


def expected_days(truth: dict[str, Any], shop: str) -> dict[str, dict[str, Decimal]]:
    """Every figure of every day of the shop's report range: from its first to its last day
    with activity (the truth's days and ad spend), never after the shop's today; margins as
    DEFINITIONS.md sets them (shipping charged in CM2), each figure rounded half up."""
    today = shop_today(truth)
    spend = ad_spend_by_platform_day(truth)
    costs = order_costs(truth, shop)
    unattributed: dict[str, Decimal] = defaultdict(Decimal)
    for provider in SHIPPING_PROVIDERS:
        for day, cost in truth[provider]["unmatched_label_cost_by_day"].items():
            unattributed[day] += Decimal(cost)
    active = [day for day in truth["days"]] + [day for (_platform, day), amount in spend.items() if amount]
    first, last = date.fromisoformat(min(active)), date.fromisoformat(min(max(active), today))
    expected = {}
    for offset in range((last - first).days + 1):
        day = (first + timedelta(days=offset)).isoformat()
        sales = {name: Decimal(str(truth["days"].get(day, {}).get(name, 0))) for name in SALES_FIGURES}
        figures = {
            **sales,
            **costs.get(day, {"shipping_costs": Decimal(0), "handling": Decimal(0)}),
            "unattributed_shipping_costs": unattributed[day],
            "ad_spend": sum((spend.get((platform, day), Decimal(0)) for platform in AD_PLATFORMS), Decimal(0)),
            "operating_expenses": operating_expenses(shop, day),
        }
        figures["cm1"] = figures["net_sales"] - figures["cogs"]
        figures["cm2"] = figures["cm1"] + figures["shipping_charged"] - sum(
            figures[name]
            for name in ("shipping_costs", "unattributed_shipping_costs", "handling", "transaction_fees",
                         "third_party_transaction_fees")
        )  # fmt: skip
        figures["cm3"] = figures["cm2"] - figures["ad_spend"]
        figures["net_profit"] = figures["cm3"] - figures["operating_expenses"]
        expected[day] = {name: value.quantize(CENT, ROUND_HALF_UP) for name, value in figures.items()}
    return expected
