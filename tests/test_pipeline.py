"""The whole pipeline, as `meltano run` runs it: taps -> target-postgres -> dbt, against the sandbox's truth.

The tests of this module share one warehouse and run in order: first sync, an identical
re-run, then an incremental sync after the store has moved forward.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

SHOP = "bloom-demo"
CENT = Decimal("0.01")
# Figures of /_sandbox/truth "days" that profit_daily must reproduce to the cent.
FIGURES = (
    "orders", "gross_sales", "discounts", "returns", "net_sales", "shipping_charged",
    "taxes", "total_sales", "cogs", "transaction_fees", "payouts",
)  # fmt: skip
AD_PLATFORMS = ("meta", "google_ads", "tiktok")
SHIPPING_PROVIDERS = ("shipstation", "shippo")
RATES_SEED = Path(__file__).resolve().parents[1] / "transform" / "seeds" / "currency_rates.csv"
RAW_TABLES = ("raw_shopify.orders", "raw_shopify.products", "raw_shopify.customers", "raw_shopify.transactions")


def report_days(pipeline) -> dict[str, dict[str, Decimal]]:
    columns = ", ".join(FIGURES)
    rows = pipeline.query(f"select date::text, {columns} from reports.profit_daily where shop = %s", (SHOP,))
    return {row[0]: dict(zip(FIGURES, (Decimal(v or 0) for v in row[1:]), strict=True)) for row in rows}


def assert_reports_match_truth(pipeline) -> None:
    truth = pipeline.sandbox.get("/_sandbox/truth")
    reports = report_days(pipeline)
    mismatches = []
    for day, figures in truth["days"].items():
        got = reports.get(day)
        if got is None:
            mismatches.append(f"{day}: missing from profit_daily")
            continue
        for name in FIGURES:
            expected = Decimal(str(figures[name])).quantize(CENT)
            if got[name].quantize(CENT) != expected:
                mismatches.append(f"{day} {name}: report {got[name]} != truth {expected}")
    for day, got in reports.items():
        if day not in truth["days"] and any(got[name] for name in FIGURES):
            mismatches.append(f"{day}: report has sales figures the truth has not: {got}")
    assert not mismatches, f"{len(mismatches)} mismatches, first ones:\n" + "\n".join(mismatches[:20])
    assert len(truth["days"]) > 600  # 24 months of history were compared, not an empty set


def table_checksums(pipeline, tables) -> dict[str, tuple[int, str]]:
    sums = {}
    for table in tables:
        ((count, digest),) = pipeline.query(
            f"select count(*), md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from {table} as t"
        )
        sums[table] = (count, digest)
    return sums


@pytest.fixture(scope="module")
def first_sync(pipeline):
    pipeline.meltano("run", "sync-all")
    return pipeline


def test_first_sync_reports_equal_the_truth(first_sync):
    assert_reports_match_truth(first_sync)


def test_every_order_lands_once(first_sync):
    truth = first_sync.sandbox.get("/_sandbox/truth")
    ((count, distinct),) = first_sync.query("select count(*), count(distinct id) from raw_shopify.orders")
    assert count == distinct == truth["counts"]["orders"]


def merchant_rate(from_currency: str, to_currency: str, day: str) -> Decimal:
    """The merchant's rate (transform/seeds/currency_rates.csv) of ``day``: the latest dated on or before it."""
    if from_currency == to_currency:
        return Decimal(1)
    with RATES_SEED.open() as seed:
        rates = [row for row in csv.DictReader(seed) if (row["from_currency"], row["to_currency"]) == (
            from_currency, to_currency) and row["rate_date"] <= day]  # fmt: skip
    return Decimal(max(rates, key=lambda row: row["rate_date"])["rate"])


def test_ad_spend_per_platform_and_day_equals_the_ad_platforms_truth(first_sync):
    """Each platform's spend per account day (the sandbox's truth, in the account's currency),
    converted at the merchant's rates, is profit_daily's ad spend of that platform and day, up to
    the shop's today; a later account day (Berlin's begins before New York's) waits in staging."""
    truth = first_sync.sandbox.get("/_sandbox/truth")
    shop_currency = truth["shop"]["currency"]
    now = datetime.fromisoformat(truth["now"].replace("Z", "+00:00"))
    shop_today = now.astimezone(ZoneInfo(truth["shop"]["iana_timezone"])).date().isoformat()
    expected: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    later: set[tuple[str, str]] = set()
    for platform in AD_PLATFORMS:
        for account in truth[platform].values():
            for day, spend in account["spend"].items():
                if day > shop_today:
                    later.add((platform, day))
                    continue
                expected[(platform, day)] += Decimal(spend) * merchant_rate(account["currency"], shop_currency, day)
    columns = ", ".join(f"ad_spend_{platform}" for platform in AD_PLATFORMS)
    rows = first_sync.query(f"select date::text, {columns} from reports.profit_daily where shop = %s", (SHOP,))
    got = {(platform, row[0]): row[1 + i] for row in rows for i, platform in enumerate(AD_PLATFORMS)}
    # The store's clock is a UTC midnight: TikTok's Berlin account has begun the next day, the shop has not.
    assert later, (truth["now"], shop_today)
    assert max(row[0] for row in rows) == shop_today
    staged = set(first_sync.query("select platform, spend_date::text from analytics.stg_ads__ad_spend_daily"))
    assert later <= staged
    days_with_spend = {key for key, value in expected.items() if value}
    assert len(days_with_spend) > 600
    mismatches = [
        f"{platform} {day}: report {got.get((platform, day))} != truth {value}"
        for (platform, day), value in sorted(expected.items())
        # Postgres' round() takes halves away from zero, as money is rounded.
        if got.get((platform, day), Decimal(0)).quantize(CENT) != value.quantize(CENT, ROUND_HALF_UP)
    ]
    assert not mismatches, f"{len(mismatches)} mismatches:\n" + "\n".join(mismatches[:20])


def test_each_platforms_accounts_and_campaigns_reach_staging(first_sync):
    """tap-adplatforms writes raw_ads.<platform>_ad_accounts / _campaigns; staging unions them, every row once."""
    truth = first_sync.sandbox.get("/_sandbox/truth")
    want = sorted(
        (platform, account_id, account["name"], account["currency"])
        for platform in AD_PLATFORMS
        for account_id, account in truth[platform].items()
    )
    raw = [
        row
        for platform in AD_PLATFORMS
        for row in first_sync.query(f"select platform, account_id, name, currency from raw_ads.{platform}_ad_accounts")
    ]
    assert sorted(raw) == want
    staged = first_sync.query("select platform, account_id, account_name, currency from analytics.stg_ads__ad_accounts")
    assert sorted(staged) == want
    campaigns = {
        platform: first_sync.query(f"select count(*) from raw_ads.{platform}_campaigns")[0][0]
        for platform in AD_PLATFORMS
    }
    assert all(campaigns.values()), campaigns
    staged_campaigns = dict(first_sync.query("select platform, count(*) from analytics.stg_ads__campaigns group by 1"))
    assert staged_campaigns == campaigns


def test_label_costs_per_order_equal_the_shipping_truth(first_sync):
    """Non-voided label and insurance costs per order, over both providers, as shipping_costs reports them."""
    truth = first_sync.sandbox.get("/_sandbox/truth")
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for provider in SHIPPING_PROVIDERS:
        assert truth[provider]["currency"] == truth["shop"]["currency"]
        for name, cost in truth[provider]["label_cost_by_order"].items():
            expected[name] += Decimal(cost)
    rows = first_sync.query(
        "select order_name, coalesce(label_cost, 0) + coalesce(insurance_cost, 0) from reports.shipping_costs"
        " where shop = %s and labels > 0",
        (SHOP,),
    )
    got = {name: cost for name, cost in rows}
    assert len(expected) > 1000
    # Orders whose labels are all voided have no cost in the truth and no label in the report.
    expected = {name: cost for name, cost in expected.items() if cost}
    assert got.keys() == expected.keys(), (
        sorted(got.keys() - expected.keys())[:5],
        sorted(expected.keys() - got.keys())[:5],
    )
    mismatches = [name for name, cost in expected.items() if got[name].quantize(CENT) != cost.quantize(CENT)]
    assert not mismatches, [(name, got[name], expected[name]) for name in mismatches[:10]]


def test_every_payout_reconciles_with_its_balance_transactions(first_sync):
    truth = first_sync.sandbox.get("/_sandbox/truth")
    rows = first_sync.query(
        "select payout_id, net, balance_net, is_reconciled from reports.payouts_reconciliation where shop = %s", (SHOP,)
    )
    assert len(rows) == truth["counts"]["payouts"] > 0
    assert [row for row in rows if not row[3]] == []


def test_a_second_run_changes_no_report_and_no_raw_value(first_sync):
    # Columns starting with "_" (target-postgres' _sdc_*, profit_daily's _orders_built_at)
    # record when rows were loaded or built, so rows are compared without them.
    tables = ("reports.profit_daily", "reports.orders_profit", *RAW_TABLES)
    compared = [f"(select {cols} from {t})" for t, cols in _business_columns(first_sync, tables).items()]
    before = table_checksums(first_sync, compared)
    # This time as cron would run it: bloom-sync, the three sources side by side, then dbt.
    done = first_sync.bloom_sync()
    assert re.search(r"records synced: tap-adplatforms \d+.*tap-shipping \d+.*tap-shopify-bloom \d+", done.stderr)
    assert table_checksums(first_sync, compared) == before


def test_incremental_sync_fetches_only_changes_and_updates_win(first_sync):
    stats_before = first_sync.sandbox.get("/_sandbox/stats")
    first_sync.sandbox.post("/_sandbox/advance", {"days": 2})
    first_sync.meltano("run", "sync-all")
    assert_reports_match_truth(first_sync)
    stats_after = first_sync.sandbox.get("/_sandbox/stats")
    first_run_requests = stats_before["shopify"]["requests"]
    incremental_requests = stats_after["shopify"]["requests"] - first_run_requests
    assert incremental_requests < first_run_requests / 3, (incremental_requests, first_run_requests)


def _business_columns(pipeline, tables) -> dict[str, str]:
    result = {}
    for table in tables:
        schema, name = table.split(".")
        rows = pipeline.query(
            "select column_name from information_schema.columns where table_schema = %s and table_name = %s"
            " and column_name not like '\\_%%' order by column_name",
            (schema, name),
        )
        result[table] = ", ".join(f'"{row[0]}"' for row in rows)
    return result
