"""Syncs against the Bloom sandbox over real HTTP, compared with its ground truth."""

from __future__ import annotations

import logging
import re
from datetime import datetime

import pytest
from bloom_sandbox.testing import running_sandbox
from tap_shopify_bloom.bulk import BulkClient
from tap_shopify_bloom.client import ShopifyStream

from tests.helpers import SyncResult, run_sync
from tests.sandbox_client import control, shopify_stats, tap_config, truth_counts

STREAMS = ("orders", "transactions", "products", "customers", "payouts", "balance_transactions")


@pytest.fixture(scope="module")
def sandbox():
    with running_sandbox(seed=42, orders=400, months=6, plan="plus", bulk_scale=0.001) as running:
        yield running


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch):
    monkeypatch.setattr(BulkClient, "poll_seconds", 0.05)
    monkeypatch.setattr(ShopifyStream, "retry_base_seconds", 0.05)


def sync_with_fault(sandbox, fault: dict, streams: list[str], **settings) -> tuple[SyncResult, dict, dict]:
    """A sync of ``streams`` while the sandbox injects ``fault``; the sandbox's stats before and after."""
    before = control(sandbox, "stats")
    control(sandbox, "faults", [fault])
    try:
        result = run_sync(tap_config(sandbox, **settings), streams=streams)
    finally:
        control(sandbox, "faults", method="DELETE")
    return result, before, control(sandbox, "stats")


def distinct(result, stream: str) -> set[str]:
    return {row["id"] for row in result.records.get(stream, [])}


def assert_matches_truth(result, truth: dict[str, int]) -> None:
    for stream in STREAMS:
        rows = result.records.get(stream, [])
        assert len(distinct(result, stream)) == truth[stream], stream
        assert len(rows) == truth[stream], f"{stream}: records emitted twice"
    orders = result.records["orders"]
    assert sum(len(o["line_items"]) for o in orders) == truth["line_items"]
    assert sum(len(o["shipping_lines"]) for o in orders) == truth["shipping_lines"]
    assert sum(len(o["refunds"]) for o in orders) == truth["refunds"]
    assert sum(len(r["refund_line_items"]) for o in orders for r in o["refunds"]) == truth["refund_line_items"]
    assert sum(len(p["variants"]) for p in result.records["products"]) == truth["variants"]


def test_paginated_first_sync_equals_truth(sandbox):
    result = run_sync(tap_config(sandbox, bulk_threshold=0))
    assert_matches_truth(result, truth_counts(sandbox))
    assert result.records["shop"][0]["shop"] == sandbox.world.store.shop.handle


def test_bulk_first_sync_equals_truth(sandbox):
    before = shopify_stats(sandbox)
    # Products and customers go by bulk where the sandbox can count them, else they page.
    streams = ["orders", "transactions", "products", "customers"]
    result = run_sync(tap_config(sandbox, bulk_threshold=10, max_concurrency=3), streams=streams)
    after = shopify_stats(sandbox)
    assert after["bulk_completed"] - before["bulk_completed"] >= 4
    truth = truth_counts(sandbox)
    for stream in streams:
        assert len(result.records[stream]) == len(distinct(result, stream)) == truth[stream]
    orders = result.records["orders"]
    assert sum(len(o["line_items"]) for o in orders) == truth["line_items"]
    assert sum(len(r["refund_line_items"]) for o in orders for r in o["refunds"]) == truth["refund_line_items"]
    assert sum(len(p["variants"]) for p in result.records["products"]) == truth["variants"]


def test_customers_windows_at_the_threshold_go_by_bulk_the_rest_page(sandbox, caplog):
    """The sandbox counts customers (``customersCount``): each window's path follows its count."""
    threshold = 20
    before = shopify_stats(sandbox)
    with caplog.at_level(logging.INFO):
        result = run_sync(tap_config(sandbox, bulk_threshold=threshold), streams=["customers"])
    assert "cannot count" not in caplog.text
    customers = sandbox.world.store.customers
    assert len(result.records["customers"]) == len(distinct(result, "customers")) == len(customers)

    def moment(text: str) -> datetime | None:
        return None if text in {"beginning", "now"} else datetime.fromisoformat(text)

    paths = {}
    for start, end, how in re.findall(r"customers: window \[(\S+), (\S+)\) done by (\w+)", caplog.text):
        low, high = moment(start), moment(end)
        count = sum((low is None or c.updated_at >= low) and (high is None or c.updated_at < high) for c in customers)
        paths[start, end] = (how, count)
        assert how == ("bulk" if count >= threshold else "pages"), (start, end, count)
    by_bulk = [window for window, (how, _) in paths.items() if how == "bulk"]
    assert 0 < len(by_bulk) < len(paths)  # both paths were taken
    assert shopify_stats(sandbox)["bulk_completed"] - before["bulk_completed"] == len(by_bulk)


def test_bulk_and_paged_orders_are_identical(sandbox):
    """The same orders give the same records by either path, nested lists in the same order."""
    paged = run_sync(tap_config(sandbox, bulk_threshold=0), streams=["orders"])
    before = shopify_stats(sandbox)
    bulk = run_sync(tap_config(sandbox, bulk_threshold=1, max_concurrency=3), streams=["orders"])
    assert shopify_stats(sandbox)["bulk_completed"] - before["bulk_completed"] >= 6  # every month by bulk
    by_page = {order["id"]: order for order in paged.records["orders"]}
    by_bulk = {order["id"]: order for order in bulk.records["orders"]}
    assert len(by_page) == truth_counts(sandbox)["orders"]
    assert sum(len(order["line_items"]) > 1 for order in by_page.values()) > 50  # the order of lists matters
    assert by_bulk == by_page


def test_bulk_and_paged_products_are_identical_variants_in_position_order(sandbox):
    """Bulk lines of variants come in any order; both paths list them by the merchant's position."""
    paged = run_sync(tap_config(sandbox, bulk_threshold=0), streams=["products"])
    before = shopify_stats(sandbox)
    bulk = run_sync(tap_config(sandbox, bulk_threshold=1, max_concurrency=3), streams=["products"])
    assert shopify_stats(sandbox)["bulk_completed"] - before["bulk_completed"] == 1  # the whole catalog
    by_page = {product["id"]: product for product in paged.records["products"]}
    by_bulk = {product["id"]: product for product in bulk.records["products"]}
    assert by_bulk == by_page
    store = {f"gid://shopify/Product/{p.id}": p for p in sandbox.world.store.products}
    assert set(by_page) == set(store)
    reordered = 0
    for product_id, row in by_page.items():
        truth = sorted(store[product_id].variants, key=lambda v: v.position)
        assert [v["id"] for v in row["variants"]] == [f"gid://shopify/ProductVariant/{v.id}" for v in truth]
        assert [v["position"] for v in row["variants"]] == list(range(1, len(truth) + 1))
        reordered += [v.id for v in truth] != sorted(v.id for v in truth)
    assert reordered > 0  # position order is not id order for these: the order is really checked


# The app that creates an order of each source, as the sandbox documents it (sandbox/README.md).
APPS = {
    "web": "Online Store",
    "pos": "Point of Sale",
    "shopify_draft_order": "Draft Orders",
    "iphone": "Shopify Mobile for iPhone",
}


@pytest.mark.parametrize("bulk_threshold", [0, 1], ids=["pages", "bulk"])
def test_channel_is_the_app_that_created_the_order(sandbox, bulk_threshold):
    result = run_sync(tap_config(sandbox, bulk_threshold=bulk_threshold), streams=["orders"])
    source = {f"gid://shopify/Order/{order.id}": order.source_name for order in sandbox.world.store.orders}
    rows = result.records["orders"]
    assert len(rows) == len(source)
    assert {APPS[source[row["id"]]] for row in rows} == set(APPS.values())  # every channel is there ...
    for row in rows:
        assert row["channel"] == APPS[source[row["id"]]], row["id"]  # ... and each order has its own
        assert row["app_id"].startswith("gid://shopify/App/")


def test_failed_bulk_operation_is_split_and_retried(sandbox):
    control(sandbox, "faults", [{"type": "bulk_failed", "count": 1, "partial_data": True}])
    failed_before = shopify_stats(sandbox)["bulk_failed"]
    try:
        result = run_sync(tap_config(sandbox, bulk_threshold=10, max_concurrency=1), streams=["transactions"])
    finally:
        control(sandbox, "faults", method="DELETE")
    assert shopify_stats(sandbox)["bulk_failed"] == failed_before + 1
    assert len(result.records["transactions"]) == len(distinct(result, "transactions"))
    assert len(distinct(result, "transactions")) == truth_counts(sandbox)["transactions"]


@pytest.mark.parametrize(
    "fault",
    [
        {"type": "http_error", "status": 503, "path": "/admin", "count": 2},
        {"type": "reset", "path": "/admin", "count": 2},
        {"type": "truncate", "path": "/admin", "count": 2},
        {"type": "throttled", "count": 2},
    ],
    ids=lambda f: f["type"],
)
def test_transient_faults_are_retried(sandbox, fault):
    result, stats_before, stats_after = sync_with_fault(sandbox, fault, ["customers"], bulk_threshold=0)
    hits = (
        stats_after["shopify"]["throttled"] - stats_before["shopify"]["throttled"]
        if fault["type"] == "throttled"
        else stats_after["faults_injected"] - stats_before["faults_injected"]
    )
    assert hits == 2  # the faults did happen ...
    # ... and every customer arrived exactly once all the same.
    assert len(result.records["customers"]) == len(distinct(result, "customers")) == truth_counts(sandbox)["customers"]


def test_incremental_after_advance_fetches_only_changes(sandbox):
    first = run_sync(tap_config(sandbox, bulk_threshold=0), streams=["orders"])
    before = truth_counts(sandbox)
    control(sandbox, "advance", {"days": 1})
    after = truth_counts(sandbox)
    second = run_sync(tap_config(sandbox, bulk_threshold=0), state=first.state, streams=["orders"])
    cursor = first.state["bookmarks"]["orders"]["windows"]["cursor"]
    new_orders = after["orders"] - before["orders"]
    assert new_orders > 0
    ids = distinct(second, "orders")
    assert len(ids) >= new_orders
    assert len(ids) < after["orders"] / 4  # only what changed, not the history
    assert all(row["updated_at"] >= cursor for row in second.records["orders"])
    assert len(distinct(first, "orders") | ids) == after["orders"]


def test_expired_result_url_runs_the_operation_again(sandbox, caplog):
    before = shopify_stats(sandbox)
    control(sandbox, "faults", [{"type": "expired_url", "count": 1}])
    try:
        with caplog.at_level(logging.INFO):
            result = run_sync(tap_config(sandbox, bulk_threshold=10, max_concurrency=1), streams=["transactions"])
    finally:
        control(sandbox, "faults", method="DELETE")
    after = shopify_stats(sandbox)
    assert "expired; running the operation again" in caplog.text
    # The operation whose result had expired was run again (one more than the windows).
    windows_by_bulk = caplog.text.count("done by bulk")
    assert after["bulk_created"] - before["bulk_created"] == windows_by_bulk + 1
    assert len(result.records["transactions"]) == len(distinct(result, "transactions"))
    assert len(distinct(result, "transactions")) == truth_counts(sandbox)["transactions"]


@pytest.mark.parametrize(
    "fault",
    [
        {"type": "http_error", "status": 503, "path": "/admin/bulk-results", "count": 2},
        {"type": "reset", "path": "/admin/bulk-results", "count": 1},
        {"type": "truncate", "path": "/admin/bulk-results", "count": 1},
    ],
    ids=lambda f: f["type"],
)
def test_transient_faults_of_a_result_download_are_retried(sandbox, fault):
    result, before, after = sync_with_fault(sandbox, fault, ["orders"], bulk_threshold=10, max_concurrency=1)
    assert after["faults_injected"] - before["faults_injected"] == fault["count"]
    assert after["shopify"]["bulk_created"] - before["shopify"]["bulk_created"] >= 1
    truth = truth_counts(sandbox)
    assert len(result.records["orders"]) == len(distinct(result, "orders")) == truth["orders"]
    assert sum(len(o["line_items"]) for o in result.records["orders"]) == truth["line_items"]
