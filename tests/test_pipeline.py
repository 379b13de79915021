"""The whole pipeline, as `meltano run` runs it: taps -> target-postgres -> dbt, against the sandbox's truth.

The tests of this module share one warehouse and run in order: first sync, an identical
re-run, then an incremental sync after the store has moved forward.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from _profit_truth import (
    AD_PLATFORMS,
    FIGURES,
    SHIPPING_PROVIDERS,
    ad_spend_by_platform_day,
    expected_days,
    matched_labels,
    shop_today,
)

SHOP = "bloom-demo"
CENT = Decimal("0.01")
RAW_TABLES = ("raw_shopify.orders", "raw_shopify.products", "raw_shopify.customers", "raw_shopify.transactions")


def report_days(pipeline) -> dict[str, dict[str, Decimal]]:
    columns = ", ".join(FIGURES)
    rows = pipeline.query(f"select date::text, {columns} from reports.profit_daily where shop = %s", (SHOP,))
    return {row[0]: dict(zip(FIGURES, (Decimal(v or 0) for v in row[1:]), strict=True)) for row in rows}


def assert_reports_match_truth(pipeline) -> None:
    """profit_daily has a row for every day of the truth's report range, and every figure of
    it, from sales to net profit, equals the truth's to the cent."""
    expected = expected_days(pipeline.sandbox.get("/_sandbox/truth"), SHOP)
    reports = report_days(pipeline)
    mismatches = [f"{day}: missing from profit_daily" for day in sorted(expected.keys() - reports.keys())]
    mismatches += [
        f"{day}: in profit_daily, outside the truth's range" for day in sorted(reports.keys() - expected.keys())
    ]
    for day in sorted(expected.keys() & reports.keys()):
        mismatches += [
            f"{day} {name}: report {reports[day][name]} != truth {want}"
            for name, want in expected[day].items()
            if reports[day][name] != want
        ]
    assert not mismatches, f"{len(mismatches)} mismatches, first ones:\n" + "\n".join(mismatches[:20])
    assert len(expected) > 600  # 24 months of history were compared, not an empty set
    assert all(sum(expected[day][name] for day in expected) for name in FIGURES), "a figure is 0 on every day"


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


def test_missing_costs_rank_every_variant_sold_without_a_cost(first_sync):
    """missing_costs holds the truth's variants sold without a unit cost, their units and net
    sales to the cent, ranked by those net sales; profit_daily's coverage is below 1 on their days."""
    truth = first_sync.sandbox.get("/_sandbox/truth")["missing_costs"]
    assert truth, "the store sold no variant without a cost: nothing was compared"
    rows = first_sync.query(
        "select variant_id, units_without_cost, net_sales_without_cost, rank from reports.missing_costs"
        " where shop = %s order by rank, variant_id",
        (SHOP,),
    )
    got = {vid: (units, net) for vid, units, net, _rank in rows}
    assert got == {vid: (want["units"], Decimal(want["net_sales"])) for vid, want in truth.items()}
    by_rank = [net for _vid, _units, net, _rank in rows]  # in rank order
    assert by_rank == sorted(by_rank, reverse=True)
    assert rows[0][3] == 1
    ((uncovered_days,),) = first_sync.query(
        "select count(*) from reports.profit_daily where shop = %s and cost_coverage < 1", (SHOP,)
    )
    assert uncovered_days > 0


def test_every_order_lands_once(first_sync):
    truth = first_sync.sandbox.get("/_sandbox/truth")
    ((count, distinct),) = first_sync.query("select count(*), count(distinct id) from raw_shopify.orders")
    assert count == distinct == truth["counts"]["orders"]


def test_ad_spend_per_platform_and_day_equals_the_ad_platforms_truth(first_sync):
    """Each platform's spend per account day (the sandbox's truth, in the account's currency),
    converted at the merchant's rates, is profit_daily's ad spend of that platform and day, up to
    the shop's today; a later account day (Berlin's begins before New York's) waits in staging."""
    truth = first_sync.sandbox.get("/_sandbox/truth")
    today = shop_today(truth)
    spend = ad_spend_by_platform_day(truth)
    expected = {key: value for key, value in spend.items() if key[1] <= today}
    later = spend.keys() - expected.keys()
    columns = ", ".join(f"ad_spend_{platform}" for platform in AD_PLATFORMS)
    rows = first_sync.query(f"select date::text, {columns} from reports.profit_daily where shop = %s", (SHOP,))
    got = {(platform, row[0]): row[1 + i] for row in rows for i, platform in enumerate(AD_PLATFORMS)}
    # The store's clock is a UTC midnight: TikTok's Berlin account has begun the next day, the shop has not.
    assert later, (truth["now"], today)
    assert max(row[0] for row in rows) == today
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
    _labels, expected = matched_labels(first_sync.sandbox.get("/_sandbox/truth"))
    rows = first_sync.query(
        "select order_name, coalesce(label_cost, 0) + coalesce(insurance_cost, 0) from reports.shipping_costs"
        " where shop = %s and labels > 0 and order_id is not null",
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


def test_labels_that_match_no_order_are_booked_on_their_day(first_sync):
    """The truth's unmatched, non-voided labels of both providers, per shop-local day, are
    profit_daily's unattributed_shipping_costs (inside CM2) and shipping_costs' label rows."""
    truth = first_sync.sandbox.get("/_sandbox/truth")
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for provider in SHIPPING_PROVIDERS:
        for day, cost in truth[provider]["unmatched_label_cost_by_day"].items():
            expected[day] += Decimal(cost)
    assert len(expected) > 10
    daily = dict(first_sync.query(
        "select date::text, unattributed_shipping_costs from reports.profit_daily"
        " where shop = %s and unattributed_shipping_costs <> 0", (SHOP,)))  # fmt: skip
    assert daily == expected
    rows = dict(first_sync.query(
        "select processed_date::text, sum(shipping_costs) from reports.shipping_costs where shop = %s"
        " and shipping_cost_source = 'unattributed_label' group by 1", (SHOP,)))  # fmt: skip
    assert rows == expected


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


def shopify_graphql(sandbox, query: str) -> dict:
    """One query to the sandbox's Shopify Admin API, as a tap sends it."""
    request = urllib.request.Request(
        f"{sandbox.url}/admin/api/2026-10/graphql.json",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json", "X-Shopify-Access-Token": "shpat_sandbox_token"},
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.load(answer)["data"]


def reprice_a_product_sold_since(sandbox, since: str) -> dict:
    """The merchant raises the costs of the product sold most since ``since`` (a moment before the
    store's last advance) at a moment between ``since`` and its first sale after it; the answer of
    /_sandbox/reprice."""
    query = f"""{{ orders(first: 250, query: "processed_at:>='{since}'") {{ nodes {{ processedAt
      lineItems(first: 50) {{ nodes {{ isGiftCard product {{ id updatedAt }} }} }} }} }} }}"""
    first_sale: dict[str, str] = {}
    updated: dict[str, str] = {}
    sold: Counter[str] = Counter()
    for order in shopify_graphql(sandbox, query)["orders"]["nodes"]:
        for line in order["lineItems"]["nodes"]:
            if line["product"] and not line["isGiftCard"]:
                pid = line["product"]["id"]
                sold[pid] += 1
                first_sale[pid] = min(first_sale.get(pid, order["processedAt"]), order["processedAt"])
                updated[pid] = line["product"]["updatedAt"]
    for pid, _ in sold.most_common():
        start = datetime.fromisoformat(max(since, updated[pid]))
        end = datetime.fromisoformat(first_sale[pid])
        if end - start > timedelta(seconds=2):
            at = (start + (end - start) / 2).replace(microsecond=0)
            return sandbox.post("/_sandbox/reprice", {"product_id": int(pid.rsplit("/", 1)[1]), "at": at.isoformat()})
    raise AssertionError(f"no product sold since {since} to reprice: {sold}")


def test_incremental_sync_fetches_only_changes_and_updates_win(first_sync):
    """The store moves on to today's UTC midnight (the shared store starts days behind it) and
    the merchant changes a product's costs inside those days (on purpose, whatever else the
    advance drew): the incremental sync and build equal the truth, the orders before the
    change keep the old cost and those after it get the new one."""
    stats_before = first_sync.sandbox.get("/_sandbox/stats")
    synced_until = first_sync.sandbox.get("/_sandbox/health")["now"]
    days = (datetime.now(UTC).date() - date.fromisoformat(synced_until[:10])).days
    assert days > 0, synced_until
    first_sync.sandbox.post("/_sandbox/advance", {"days": days})
    change = reprice_a_product_sold_since(first_sync.sandbox, synced_until)
    first_sync.meltano("run", "sync-all")
    assert_reports_match_truth(first_sync)
    at = datetime.fromisoformat(change["at"]).replace(tzinfo=None)
    costs = {f"gid://shopify/ProductVariant/{v['id']}": (Decimal(v["cost_before"]), Decimal(v["cost"]))
             for v in change["variants"]}  # fmt: skip
    lines = first_sync.query(
        "select variant_id, processed_at, unit_cost from analytics.int_shopify__order_lines"
        " where product_id = %s and unit_cost_source = 'shopify'",
        (f"gid://shopify/Product/{change['product_id']}",),
    )
    before = [(cost, costs[vid][0]) for vid, processed, cost in lines if vid in costs and processed < at]
    after = [(cost, costs[vid][1]) for vid, processed, cost in lines if vid in costs and processed >= at]
    assert before, "no order of the product before the change"
    assert after, "no order of the product after the change"
    assert all(got == want for got, want in before + after), (before, after)
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
