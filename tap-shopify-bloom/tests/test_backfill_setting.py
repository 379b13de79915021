"""``backfill: false`` fetches only the recent window; a later default run completes the history from state."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from bloom_sandbox.testing import running_sandbox
from tap_shopify_bloom.bulk import BulkClient
from tap_shopify_bloom.windows import iso, parse_iso

from tests.factories import order
from tests.helpers import SyncResult, history_lines, run_sync
from tests.sandbox_client import control, tap_config, truth_counts
from tests.stub import FILTER

#: Stream -> the column its windows select on (transactions: their order's update time).
TIME_COLUMNS = {
    "orders": "updated_at",
    "products": "updated_at",
    "customers": "updated_at",
    "payouts": "issued_at",
    "balance_transactions": "transaction_date",
}
REREAD = {"payouts": timedelta(days=14), "balance_transactions": timedelta(days=14)}  # their lookback
#: Read whole on a first run (the catalog: unit costs for the first orders), no history behind it.
WHOLE_FIRST = ("products",)


@pytest.fixture(scope="module")
def sandbox():
    with running_sandbox(seed=23, orders=300, months=4, plan="plus") as running:
        yield running


def ids(result: SyncResult, stream: str) -> list[str]:
    return [row["id"] for row in result.records.get(stream, [])]


def windows(result: SyncResult, stream: str) -> dict:
    return result.state["bookmarks"][stream]["windows"]


def test_recent_window_first_then_the_history_from_state(sandbox):
    config = tap_config(sandbox, bulk_threshold=0)
    recent = run_sync({**config, "backfill": False})
    truth = truth_counts(sandbox)

    # The first run: only the last initial_window_days of every stream but the catalog, which
    # comes whole; the history pending in state.
    for stream in WHOLE_FIRST:
        assert "backfill" not in windows(recent, stream), stream
        assert len(set(ids(recent, stream))) == len(ids(recent, stream)) == truth[stream], stream
    for stream, column in TIME_COLUMNS.items():
        if stream in WHOLE_FIRST:
            continue
        pending = windows(recent, stream)["backfill"]
        assert pending["done"] == [], stream
        assert all(row[column] >= pending["end"] for row in recent.records.get(stream, [])), stream
    assert 0 < len(ids(recent, "orders")) < truth["orders"] / 4
    recent_orders = {row["id"] for row in recent.records["orders"]}
    assert {row["order_id"] for row in recent.records["transactions"]} <= recent_orders

    # The next run with the default completes the history: together they are the truth.
    full = run_sync(config, state=recent.state)
    for stream in ("orders", "transactions", *TIME_COLUMNS):
        assert "backfill" not in windows(full, stream), stream
        first, second = ids(recent, stream), ids(full, stream)
        assert len(set(first)) == len(first), f"{stream}: emitted twice in the first run"
        assert len(set(second)) == len(second), f"{stream}: emitted twice in the second run"
        assert len(set(first) | set(second)) == truth[stream], stream
    # Nothing of the first run came again from the history: only the live window's inclusive
    # cursor (and the payments streams' 14-day re-read) may repeat a record.
    for stream, column in TIME_COLUMNS.items():
        since = iso(parse_iso(windows(recent, stream)["cursor"]) - REREAD.get(stream, timedelta(0)))
        again = set(ids(recent, stream)) & set(ids(full, stream))
        assert all(row[column] >= since for row in full.records[stream] if row["id"] in again), stream
    orders_cursor = windows(recent, "orders")["cursor"]
    changed = {row["id"] for row in full.records["orders"] if row["updated_at"] >= orders_cursor}
    again = set(ids(recent, "transactions")) & set(ids(full, "transactions"))
    assert {row["order_id"] for row in full.records["transactions"] if row["id"] in again} <= changed


def test_first_run_reads_the_whole_catalog_with_unit_costs_and_later_runs_only_its_changes(monkeypatch, caplog):
    """``backfill: false`` on a store whose products mostly predate the live window: all of them come,
    with every variant's unit cost, in one bulk operation; the next run reads only what changed."""
    monkeypatch.setattr(BulkClient, "poll_seconds", 0.05)
    with running_sandbox(seed=29, orders=300, months=6, plan="plus", bulk_scale=0.001) as sandbox:
        store = sandbox.world.store
        products = len(store.products)
        config = tap_config(sandbox, bulk_threshold=products)  # the catalog is large enough for bulk
        with caplog.at_level(logging.INFO):
            first = run_sync({**config, "backfill": False})
        truth = truth_counts(sandbox)
        costs = {f"gid://shopify/ProductVariant/{v.id}": v.unit_cost for p in store.products for v in p.variants}
        live_start = parse_iso(windows(first, "orders")["backfill"]["end"])  # orders: still the last days only
        assert sum(p.updated_at < live_start for p in store.products) > products / 2  # older than the window
        assert caplog.text.count("products: window [beginning, now) done by bulk") == 1

        rows = first.records["products"]
        assert len(rows) == len(set(ids(first, "products"))) == truth["products"] == products
        variants = [v for row in rows for v in row["variants"]]
        assert len(variants) == truth["variants"]
        assert {v["id"]: v["unit_cost"] and Decimal(v["unit_cost"]) for v in variants} == costs
        assert 0 < sum(cost is None for cost in costs.values()) < len(costs) / 4  # costs really compared
        assert {v["unit_cost_currency"] for v in variants if v["unit_cost"]} == {store.shop.currency}
        assert [row["currency"] for row in first.records["shop"]] == [store.shop.currency]
        cursor = windows(first, "products")["cursor"]
        assert windows(first, "products") == {"cursor": cursor}  # no history left: incremental from here
        assert cursor == iso(max(p.updated_at for p in store.products))  # Shopify's times are in seconds

        control(sandbox, "advance", {"days": 3})  # new and repriced products, as the advance draws them
        # and one repriced on purpose, whatever the advance drew
        repriced = next(p for p in store.products if not p.is_gift_card and p.updated_at < parse_iso(cursor))
        control(sandbox, "reprice", {"product_id": repriced.id, "at": iso(store.now - timedelta(hours=1))})
        second = run_sync(config, state=first.state)
        bookmark = parse_iso(cursor)
        since = {f"gid://shopify/Product/{p.id}": p.updated_at for p in store.products if p.updated_at >= bookmark}
    # Only the products changed since (and any at the inclusive cursor) come again; no history.
    assert sorted(ids(second, "products")) == sorted(since)
    assert any(updated > bookmark for updated in since.values())  # something did change
    assert len(since) < products / 2
    state = second.state["bookmarks"]["products"]
    assert list(state["windows"]) == ["cursor"]
    assert parse_iso(state["windows"]["cursor"]) == parse_iso(state["replication_key_value"])
    latest = max(parse_iso(row["updated_at"]) for row in second.records["products"])
    assert parse_iso(state["windows"]["cursor"]) == latest
    assert "backfill" not in windows(second, "orders")  # the orders' history came as before


def test_history_stays_pending_while_backfill_is_false(stub, stub_config, caplog):
    stub.data["orders"] = [order(1000 + i, days) for i, days in enumerate([1, 3, 40, 100])]
    config = {**stub_config, "backfill": False}
    with caplog.at_level(logging.INFO):
        first = run_sync(config, streams=["orders"])
    assert sorted(ids(first, "orders")) == ["gid://shopify/Order/1000", "gid://shopify/Order/1001"]
    assert "orders: history [2026-06-01T00:00:00Z, " in caplog.text
    assert "left pending (" in caplog.text
    stub.requests.clear()
    daily = run_sync(config, state=first.state, streams=["orders"])  # still false: changes only
    assert ids(daily, "orders") == ["gid://shopify/Order/1000"]  # the one at the cursor (inclusive)
    assert sum("orders(" in r["query"] for r in stub.requests) == 1
    assert windows(daily, "orders")["backfill"] == windows(first, "orders")["backfill"]
    rest = run_sync(stub_config, state=daily.state, streams=["orders"])
    assert set(ids(rest, "orders")) == {
        "gid://shopify/Order/1000",
        "gid://shopify/Order/1002",
        "gid://shopify/Order/1003",
    }
    assert "backfill" not in windows(rest, "orders")


def searches(stub) -> list[str]:
    """The search filters of the orders queries the stub answered, in order."""
    return [r["variables"].get("query") for r in stub.requests if "orders(" in r["query"]]


def month_firsts(moment: datetime, count: int) -> list[str]:
    """The first days of ``moment``'s month and of the ``count`` - 1 months before it, newest first."""
    year, month, firsts = moment.year, moment.month, []
    for _ in range(count):
        firsts.append(iso(datetime(year, month, 1, tzinfo=UTC)))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return firsts


def test_history_line_shows_the_pending_months_and_counts_them_down(stub, stub_config, caplog):
    """``HISTORY:`` lines: all months pending after a quick run, one fewer per finished month, 0 at the end."""
    stub.data["orders"] = [order(1000 + i, days) for i, days in enumerate([1, 3, 40, 100])]
    with caplog.at_level(logging.INFO):
        recent = run_sync({**stub_config, "backfill": False}, streams=["orders"])
    quick = history_lines(caplog.records, "orders")
    caplog.clear()
    # The live window began initial_window_days (7 by default) ago: the history is start_date up to there.
    live_start = parse_iso(FILTER.findall(searches(stub)[0])[0][2])
    assert abs(live_start - (datetime.now(UTC) - timedelta(days=7))) < timedelta(minutes=5)
    start = parse_iso(stub_config["start_date"])
    months = (live_start.year - start.year) * 12 + live_start.month - start.month + 1  # both months included
    assert months > 1
    pending = {
        "stream": "orders",
        "shop": stub_config["store"],
        "platform": None,
        "account_id": None,
        "months": months,
        "months_pending": months,
        "pending_from": stub_config["start_date"],
        "pending_to": iso(live_start),
    }
    assert quick == [pending]  # once, at the start; the run reads no history

    with caplog.at_level(logging.INFO):
        full = run_sync(stub_config, state=recent.state, streams=["orders"])
    lines = history_lines(caplog.records, "orders")
    caplog.clear()
    assert lines[0] == pending  # before any history is read
    assert [line["months_pending"] for line in lines] == list(range(months, -1, -1))  # one per finished month
    # Newest month first: the pending span ends at the first day of each month finished so far.
    assert [line["pending_to"] for line in lines[1:-1]] == month_firsts(live_start, months - 1)
    assert {line["pending_from"] for line in lines[:-1]} == {stub_config["start_date"]}
    assert lines[-1] == {**pending, "months": None, "months_pending": 0, "pending_from": None, "pending_to": None}

    # A run stopped after two months (its state then) starts again with two fewer pending.
    mid = next(
        s for s in full.states if len(s["bookmarks"]["orders"]["windows"].get("backfill", {}).get("done", [])) == 2
    )
    with caplog.at_level(logging.INFO):
        run_sync(stub_config, state=mid, streams=["orders"])
    resumed = history_lines(caplog.records, "orders")
    assert resumed[0] == {**pending, "months_pending": months - 2, "pending_to": month_firsts(live_start, 2)[1]}
    assert resumed[-1]["months_pending"] == 0


def test_history_line_of_every_stream_with_history(stub, stub_config, caplog):
    """All streams run: each stream's line once the shop has run every live window ahead, then again at
    its own start (not while the shop runs its live window); the catalog, read whole, has none;
    customers reach back before start_date (an open start). The next run announces every stream's
    history before it reads any history window."""
    with caplog.at_level(logging.INFO):
        recent = run_sync({**stub_config, "backfill": False})
    assert history_lines(caplog.records, "products") == []
    streams = ("orders", "transactions", "customers")
    for stream in streams:
        announced, started = history_lines(caplog.records, stream)
        assert announced == started, stream
        assert started["months_pending"] == started["months"] > 0, stream
    caplog.clear()
    with caplog.at_level(logging.INFO):
        run_sync(stub_config, state=recent.state)
    messages = [record.getMessage() for record in caplog.records]
    first_history_window = next(i for i, m in enumerate(messages) if re.search(r"fetching window \[\S+, \S+Z\)", m))
    for stream in streams:
        first_line = next(i for i, m in enumerate(messages) if m.startswith(f'HISTORY: {{"stream": "{stream}"'))
        assert first_line < first_history_window, stream
    assert history_lines(caplog.records, "customers")[0]["pending_from"] is None
    assert history_lines(caplog.records, "orders")[0]["pending_from"] == stub_config["start_date"]
