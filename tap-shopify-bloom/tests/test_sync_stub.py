"""Sync behaviour against the stub: window order, state, resume, columns."""

from __future__ import annotations

import itertools
import json
from importlib import resources

from tests.factories import order, product
from tests.helpers import run_sync
from tests.stub import FILTER


def searches(stub) -> list[str]:
    return [r["variables"].get("query") for r in stub.requests if "orders(" in r["query"]]


def test_first_sync_fetches_the_last_days_then_months_newest_first(stub, stub_config):
    stub.data["orders"] = [order(1000 + i, days) for i, days in enumerate([1, 3, 20, 50, 100, 140])]
    result = run_sync(stub_config, streams=["orders"])
    assert sorted(r["id"] for r in result.records["orders"]) == sorted(o["id"] for o in stub.data["orders"])
    windows = [FILTER.findall(q) for q in searches(stub)]
    assert len(windows[0]) == 1  # the live window is open-ended
    starts = [w[0][2] for w in windows]
    assert starts == sorted(starts, reverse=True)  # newest first
    for newer, older in itertools.pairwise(windows):
        assert older[1][2] == newer[0][2]  # each window ends where the newer one starts: no gap
    assert starts[-1] == stub_config["start_date"]
    assert result.records["orders"][0]["updated_at"] == stub.data["orders"][0]["updatedAt"]
    bookmark = result.state["bookmarks"]["orders"]
    assert bookmark["replication_key_value"] == max(o["updatedAt"] for o in stub.data["orders"])
    assert "backfill" not in bookmark["windows"]  # history complete


def window_starts(stub) -> list[str]:
    return [FILTER.findall(q)[0][2] for q in searches(stub)]


def test_finished_months_are_not_fetched_again(stub, stub_config):
    stub.data["orders"] = [order(1000 + i, days) for i, days in enumerate([1, 40, 100])]
    first = run_sync(stub_config, streams=["orders"])
    history = window_starts(stub)[1:]
    # The state saved after the live window and the two newest months, as if killed then.
    mid = next(
        s for s in first.states if len(s["bookmarks"]["orders"]["windows"].get("backfill", {}).get("done", [])) == 2
    )
    stub.requests.clear()
    resumed = run_sync(stub_config, state=json.loads(json.dumps(mid)), streams=["orders"])
    assert window_starts(stub)[1:] == history[2:]  # the remaining months only, newest first
    assert "backfill" not in resumed.state["bookmarks"]["orders"]["windows"]
    ids = {r["id"] for r in first.records["orders"]}
    assert ids == {o["id"] for o in stub.data["orders"]}


def test_incremental_run_fetches_only_changes(stub, stub_config):
    stub.data["orders"] = [order(1000, 30), order(1001, 2)]
    first = run_sync(stub_config, streams=["orders"])
    stub.requests.clear()
    stub.data["orders"].append(order(1002, 0.01))
    second = run_sync(stub_config, state=first.state, streams=["orders"])
    assert window_starts(stub) == [first.state["bookmarks"]["orders"]["windows"]["cursor"]]
    assert [r["id"] for r in second.records["orders"]] == ["gid://shopify/Order/1001", "gid://shopify/Order/1002"]


def test_rows_have_exactly_the_raw_table_columns(stub, stub_config):
    stub.data["orders"] = [order(1000, 1)]
    stub.data["transactions_orders"] = stub.data["orders"]
    result = run_sync({**stub_config, "pii": "drop"}, streams=["shop", "orders", "transactions"])
    schemas_dir = resources.files("tap_shopify_bloom") / "schemas"
    for stream, rows in result.records.items():
        columns = set(json.loads((schemas_dir / f"{stream}.json").read_text())["properties"])
        for row in rows:
            assert set(row) == columns
            assert row["shop"] == "stub-shop"
    row = result.records["orders"][0]
    assert row["email_hash"]
    assert "@" not in row["email_hash"]
    assert row["line_items"][0]["tax"] == "1.25"
    assert row["shipping_lines"][0]["tax"] == "0.25"
    assert row["total_price"] == "26.50"
    assert row["total_price_presentment"] == "26.50"
    assert row["refunds"] == []
    txn = result.records["transactions"][0]
    assert (txn["order_id"], txn["fee"], txn["fee_currency"]) == ("gid://shopify/Order/1000", "0.77", "USD")
    assert result.records["shop"][0]["iana_timezone"] == "America/New_York"


def test_orders_with_many_line_items_are_completed(stub, stub_config):
    big = order(1000, 1)
    template = big["lineItems"]["nodes"][0]
    big["lineItems"]["nodes"] = [{**template, "id": f"gid://shopify/LineItem/{n}"} for n in range(170)]
    stub.data["orders"] = [big, order(1001, 2)]
    result = run_sync(stub_config, streams=["orders"])
    rows = {r["id"]: r for r in result.records["orders"]}
    assert [li["id"] for li in rows[big["id"]]["line_items"]] == [li["id"] for li in big["lineItems"]["nodes"]]
    assert len(rows["gid://shopify/Order/1001"]["line_items"]) == 1


def test_refund_details_follow_the_page(stub, stub_config):
    stub.data["orders"] = [order(1001, 1)]  # odd numbers have a refund
    result = run_sync(stub_config, streams=["orders"])
    refund = result.records["orders"][0]["refunds"][0]
    assert refund["refund_line_items"][0]["subtotal"] == "9.00"
    assert refund["shipping_subtotal"] == "0.00"
    assert any(r["query"].startswith("query RefundDetails(") for r in stub.requests)


def test_every_stream_fetches_its_recent_window_before_any_history(stub, stub_config):
    stub.data["orders"] = [order(1000 + i, days) for i, days in enumerate([1, 3, 40, 100])]
    stub.data["transactions_orders"] = stub.data["orders"]
    stub.data["products"] = [product(10, 400), product(11, 2)]  # one older than start_date
    result = run_sync({**stub_config, "bulk_threshold": 0})
    searches = [r["variables"].get("query") for r in stub.requests]
    live = [i for i, q in enumerate(searches) if q and " AND " not in q and ":>=" in q]
    history = [i for i, q in enumerate(searches) if q and " AND " in q]
    catalog = [i for i, r in enumerate(stub.requests) if r["query"].startswith("query Products(") and not searches[i]]
    assert len(live) >= 5  # one recent window per windowed stream but products ...
    assert catalog  # ... whose first window is the whole catalog (no search) ...
    assert max(live[:5] + catalog) < min(history)  # ... all of them before the first history window
    assert sorted(r["id"] for r in result.records["products"]) == sorted(p["id"] for p in stub.data["products"])
    ids = [r["id"] for r in result.records["orders"]]
    assert sorted(ids) == sorted(o["id"] for o in stub.data["orders"])  # and nothing twice
