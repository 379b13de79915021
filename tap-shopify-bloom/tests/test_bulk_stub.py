"""Bulk operations for large history windows, against the stub."""

from __future__ import annotations

import json
import logging

import pytest
from tap_shopify_bloom.bulk import BulkClient, joined_nodes
from tap_shopify_bloom.errors import MerchantActionError
from werkzeug import Response

from tests.factories import customer, order, product
from tests.helpers import run_sync


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch):
    monkeypatch.setattr(BulkClient, "poll_seconds", 0.01)


@pytest.fixture
def history(stub):
    stub.data["orders"] = [order(2000 + i, days) for i, days in enumerate([1, 2, 20, 21, 45, 46, 47, 80, 81, 120, 150])]
    stub.data["transactions_orders"] = stub.data["orders"]
    return stub.data["orders"]


def test_joins_children_whatever_the_line_order():
    lines = [
        {"id": "gid://shopify/LineItem/2", "__parentId": "gid://shopify/Order/1"},
        {"id": "gid://shopify/ShippingLine/3", "__parentId": "gid://shopify/Order/1"},
        {"id": "gid://shopify/Order/9"},
        {"id": "gid://shopify/Order/1"},
        {"id": "gid://shopify/LineItem/4", "__parentId": "gid://shopify/Order/1"},
    ]
    joined = list(joined_nodes(iter(lines), {"LineItem": "lineItems", "ShippingLine": "shippingLines"}))
    assert [n["id"] for n in joined] == ["gid://shopify/Order/9", "gid://shopify/Order/1"]
    assert [li["id"] for li in joined[1]["lineItems"]["nodes"]] == [
        "gid://shopify/LineItem/2",
        "gid://shopify/LineItem/4",
    ]
    assert joined[1]["shippingLines"]["nodes"] == [{"id": "gid://shopify/ShippingLine/3"}]
    assert joined[0]["lineItems"]["nodes"] == []


def test_large_windows_go_through_bulk_operations(stub, stub_config, history):
    result = run_sync({**stub_config, "bulk_threshold": 2}, streams=["orders", "transactions"])
    assert len(stub.bulk_submissions) >= 4  # months with at least 2 orders, for both streams
    assert " AND " not in stub.bulk_submissions[0]  # the live window itself was large enough
    assert stub.max_running >= 2  # several operations at once
    by_id = {r["id"]: r for r in result.records["orders"]}
    assert set(by_id) == {o["id"] for o in history}
    assert len(result.records["orders"]) == len(history)
    for source in history:
        row = by_id[source["id"]]
        assert [li["id"] for li in row["line_items"]] == [li["id"] for li in source["lineItems"]["nodes"]]
        assert len(row["shipping_lines"]) == 1
        assert [r["id"] for r in row["refunds"]] == [r["id"] for r in source["refunds"]]
        for refund in row["refunds"]:
            assert refund["refund_line_items"][0]["subtotal"] == "9.00"  # completed after the bulk query
    assert {r["id"] for r in result.records["transactions"]} == {o["transactions"][0]["id"] for o in history}
    assert (
        "bulk" not in result.state["bookmarks"]["orders"]["windows"]
        or not result.state["bookmarks"]["orders"]["windows"]["bulk"]
    )


def test_failed_operation_splits_the_window_and_retries(stub, stub_config, history):
    stub.bulk_outcomes = ["COMPLETED", "FAILED"]  # the live window, then the newest month
    result = run_sync({**stub_config, "bulk_threshold": 2, "max_concurrency": 1}, streams=["orders"])
    assert sorted(r["id"] for r in result.records["orders"]) == sorted(o["id"] for o in history)
    failed_search = stub.bulk_submissions[1]
    halves = [s for s in stub.bulk_submissions[2:] if s.startswith(failed_search.split(" AND ")[0])]
    assert halves  # the failed month was asked for again in halves
    assert all(s != failed_search for s in halves)


def test_partial_data_is_used_and_not_fetched_twice(stub, stub_config, history):
    stub.bulk_outcomes = ["FAILED_PARTIAL"]
    result = run_sync({**stub_config, "bulk_threshold": 2, "max_concurrency": 1}, streams=["transactions"])
    ids = [r["id"] for r in result.records["transactions"]]
    assert sorted(ids) == sorted(o["transactions"][0]["id"] for o in history)
    assert len(ids) == len(set(ids))


def test_operation_in_flight_is_picked_up_after_a_restart(stub, stub_config, history):
    first = run_sync({**stub_config, "bulk_threshold": 2, "max_concurrency": 3}, streams=["orders"])
    started = next(s for s in first.states if s["bookmarks"]["orders"]["windows"].get("bulk"))
    in_flight = started["bookmarks"]["orders"]["windows"]["bulk"]
    in_flight_searches = {stub.bulk_submissions[int(op.rsplit("/", 1)[-1]) - 1] for op in in_flight.values()}
    submitted = len(stub.bulk_submissions)
    stub.requests.clear()
    resumed = run_sync({**stub_config, "bulk_threshold": 2, "max_concurrency": 1}, state=started, streams=["orders"])
    polled = {r["variables"]["id"] for r in stub.requests if "BulkPoll" in r["query"]}
    assert set(in_flight.values()) <= polled  # the recorded operations were picked up ...
    assert not in_flight_searches & set(stub.bulk_submissions[submitted:])  # ... not submitted again
    resumed_ids = {r["id"] for r in resumed.records["orders"]}
    first_ids_after_state = {o["id"] for o in history} - resumed_ids
    assert resumed_ids  # the rest of the history came in the resumed run
    assert first_ids_after_state <= {r["id"] for r in first.records["orders"]}


def test_products_and_customers_use_bulk_operations_too(stub, stub_config, history):
    ages = [1, 2, 20, 21, 45, 46, 80, 81, 200, 400]  # 400 days: before start_date, still synced
    stub.data["products"] = [product(100 + i, days, variants=1 + i * 30) for i, days in enumerate(ages)]
    stub.data["customers"] = [customer(500 + i, days) for i, days in enumerate(ages)]
    result = run_sync({**stub_config, "bulk_threshold": 2}, streams=["orders", "products", "customers"])
    roots = stub.bulk_roots
    assert {"orders", "products", "customers"} <= set(roots)
    assert roots == sorted(roots, key=["orders", "products", "customers"].index)  # orders first
    products = {p["id"]: p for p in result.records["products"]}
    assert len(result.records["products"]) == len(products) == len(ages)
    for source in stub.data["products"]:  # variants joined from their own JSONL lines
        assert [v["id"] for v in products[source["id"]]["variants"]] == [v["id"] for v in source["variants"]["nodes"]]
    customers = [c["id"] for c in result.records["customers"]]
    assert sorted(customers) == sorted(c["id"] for c in stub.data["customers"])


def test_a_small_catalog_pages(stub, stub_config):
    stub.data["products"] = [product(100, 1), product(101, 40)]
    result = run_sync({**stub_config, "bulk_threshold": 3}, streams=["products"])
    assert stub.bulk_roots == []  # the first sync's one window, the whole catalog, holds 2 products: paged
    assert len(result.records["products"]) == 2


def test_a_window_shopify_cannot_count_is_paged(stub, stub_config, caplog):
    stub.data["customers"] = [customer(500 + i, 1) for i in range(5)]
    refused = {"errors": [{"message": "Field 'customersCount' doesn't exist on type 'QueryRoot'"}]}

    def no_count(body):
        return Response(json.dumps(refused)) if "customersCount" in body["query"] else None

    stub.faults = [no_count]
    with caplog.at_level(logging.WARNING):
        result = run_sync({**stub_config, "bulk_threshold": 2}, streams=["customers"])
    assert "customers: Shopify cannot count a window" in caplog.text
    assert stub.bulk_roots == []
    assert len(result.records["customers"]) == 5


def test_bulk_operation_denied_access_names_the_streams_scope(stub, stub_config):
    stub.data["customers"] = [customer(500 + i, 1) for i in range(3)]
    stub.bulk_outcomes = ["ACCESS_DENIED"]
    with pytest.raises(MerchantActionError, match=r"denied access to customers \(ACCESS_DENIED\).*`read_customers`"):
        run_sync({**stub_config, "bulk_threshold": 2}, streams=["customers"])


def test_operation_expired_while_the_tap_was_away_is_run_again(stub, stub_config, history, caplog):
    config = {**stub_config, "bulk_threshold": 2, "max_concurrency": 3}
    first = run_sync(config, streams=["orders"])
    started = next(s for s in first.states if s["bookmarks"]["orders"]["windows"].get("bulk"))
    in_flight = started["bookmarks"]["orders"]["windows"]["bulk"]
    for operation_id in in_flight.values():  # days later: Shopify reports them EXPIRED, no URL
        stub.operations[operation_id].update(status="EXPIRED", url=None)
    submitted = len(stub.bulk_submissions)
    with caplog.at_level(logging.WARNING):
        resumed = run_sync(config, state=started, streams=["orders"])
    assert caplog.text.count("expired; running the operation again") == len(in_flight)
    assert len(stub.bulk_submissions) - submitted >= len(in_flight)  # each run again
    end = started["bookmarks"]["orders"]["windows"]["backfill"]["end"]
    expired = {o["id"] for o in history if o["updatedAt"][:7] in in_flight and o["updatedAt"] < end}
    assert expired
    assert expired <= {r["id"] for r in resumed.records["orders"]}  # the expired months' orders came


def test_transactions_operations_start_in_slots_orders_leave_free(stub, stub_config, history):
    config = {**stub_config, "bulk_threshold": 2, "max_concurrency": 5}
    result = run_sync(config, streams=["shop", "orders", "transactions"])
    roots = stub.bulk_roots

    def windows(state, stream):
        return state["bookmarks"].get(stream, {}).get("windows", {})

    # While orders' history was still pending, transactions' operations were already running.
    assert any("backfill" in windows(s, "orders") and windows(s, "transactions").get("bulk") for s in result.states)
    picked_up = [r for r in stub.requests if "BulkPoll" in r["query"]]
    assert len(picked_up) >= len(roots)  # every operation was polled and used ...
    assert {r["id"] for r in result.records["transactions"]} == {o["transactions"][0]["id"] for o in history}
    assert len(result.records["transactions"]) == len(history)  # ... none twice
    submitted = [s for s, root in zip(stub.bulk_submissions, roots, strict=True) if root == "transactions"]
    assert len(submitted) == len(set(submitted))  # and none submitted twice


def test_a_bad_record_in_a_bulk_file_is_named(stub, stub_config, history, monkeypatch):
    """A root line whose cursor is not a time stops the run with one line naming stream, record and window."""
    submit = stub.run_bulk

    def spoiled(query: str) -> dict:
        answer = submit(query)
        lines = stub.files.get(f"{len(stub.operations)}.jsonl") or []
        if lines:
            root = json.loads(lines[-1])  # roots follow their children
            lines[-1] = json.dumps({**root, "updatedAt": 1732752000})
        return answer

    monkeypatch.setattr(stub, "run_bulk", spoiled)
    with pytest.raises(MerchantActionError) as refused:
        run_sync({**stub_config, "bulk_threshold": 2}, streams=["orders"])
    message = str(refused.value)
    assert message.startswith("orders: Shopify sent a record the tap cannot sync: gid://shopify/Order/")
    assert "`updatedAt` 1732752000 (type int)" in message
    assert "by bulk)" in message
