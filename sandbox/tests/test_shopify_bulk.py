"""Bulk operations over HTTP: lifecycle, JSONL shape, Shopify's limits and refusals, failures, expiry."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from conftest import RUN, control, download, gql, http, poll, run, wait

ORDERS = """{ orders(query: "test:false") { edges { node { id name test
  lineItems { edges { node { id quantity } } }
  refunds { id refundLineItems(first: 5) { nodes { id } } } } } } }"""
ORDERS_WITH_LINES = """{ orders { edges { node { id name test refunds { id processedAt }
  lineItems { edges { node { id quantity originalUnitPriceSet { shopMoney { amount } } } } }
  shippingLines { edges { node { id title } } } } } } }"""
PRODUCTS = "{ products { edges { node { id title variants { edges { node { id sku } } } } } } }"


def test_lifecycle_and_jsonl_from_the_store(shared):
    store = shared.world.store
    result = run(shared, ORDERS_WITH_LINES)
    assert result["userErrors"] == []
    assert result["bulkOperation"]["status"] == "CREATED"
    op = wait(shared, result["bulkOperation"]["id"])
    assert op["status"] == "COMPLETED"
    assert op["errorCode"] is None
    assert op["completedAt"] >= op["createdAt"]
    lines = download(op["url"])
    assert int(op["objectCount"]) == len(lines)
    assert int(op["fileSize"]) > 0
    orders = [line for line in lines if "__parentId" not in line]
    assert int(op["rootObjectCount"]) == len(orders) == len(store.orders)
    children = [line for line in lines if "__parentId" in line]
    assert len([c for c in children if "quantity" in c]) == sum(len(o.line_items) for o in store.orders)
    assert len([c for c in children if "title" in c]) == sum(len(o.shipping_lines) for o in store.orders)
    # refunds are a list field: inline in the order line, as on Shopify
    by_id = {o["id"]: o for o in orders}
    assert sum(len(o["refunds"]) for o in orders) == sum(len(o.refunds) for o in store.orders)
    # every child comes after its parent, but children are not grouped by parent
    position = {line["id"]: i for i, line in enumerate(lines)}
    assert all(position[c["__parentId"]] < position[c["id"]] for c in children)
    assert all(c["__parentId"] in by_id for c in children)
    parents_in_order = [c["__parentId"] for c in children]
    assert parents_in_order != sorted(parents_in_order, key=lambda p: position[p]), "output must not be grouped"


def test_status_is_running_for_a_duration_scaled_by_size(fresh):
    fresh.world.bulk_scale = 20.0  # 20 s per 1,000 objects: the product catalog takes about a second
    try:
        op_id = run(fresh, PRODUCTS)["bulkOperation"]["id"]
        time.sleep(0.2)
        assert poll(fresh, op_id)["status"] == "RUNNING"
        started = time.monotonic()
        op = wait(fresh, op_id)
        objects = int(op["objectCount"])
        assert op["status"] == "COMPLETED"
        assert time.monotonic() - started >= 20.0 * objects / 1000 - 0.5
    finally:
        fresh.world.bulk_scale = 0.01


def test_current_bulk_operation_is_the_latest(fresh):
    op_id = run(fresh, PRODUCTS)["bulkOperation"]["id"]
    wait(fresh, op_id)
    _, body = gql(fresh, f'{{ currentBulkOperation {{ id status }} bulkOperation(id: "{op_id}") {{ id }} }}')
    assert body["data"]["currentBulkOperation"]["id"] == op_id
    assert body["data"]["bulkOperation"]["id"] == op_id


def test_five_at_once_and_the_sixth_refused(fresh):
    fresh.world.bulk_scale = 1000.0
    try:
        ids = [run(fresh, PRODUCTS)["bulkOperation"]["id"] for _ in range(5)]
        sixth = run(fresh, PRODUCTS)
        assert sixth["bulkOperation"] is None
        error = sixth["userErrors"][0]
        assert error["code"] == "OPERATION_IN_PROGRESS"
        assert error["message"].startswith("A bulk query operation for this app and shop is already in progress: ")
        assert ids[0] in error["message"]
        for op_id in ids:
            _, body = gql(
                fresh,
                f'mutation {{ bulkOperationCancel(id: "{op_id}") {{ bulkOperation {{ status }} userErrors {{ message }} }} }}',  # noqa: E501
            )
            assert body["data"]["bulkOperationCancel"]["bulkOperation"]["status"] == "CANCELING"
        assert all(wait(fresh, op_id)["status"] == "CANCELED" for op_id in ids)
    finally:
        fresh.world.bulk_scale = 0.01
    assert run(fresh, PRODUCTS)["userErrors"] == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "{ orders { edges { node { id lineItems { edges { node { id variant { id } } } } shippingLines { edges { node { title } } } } } } "  # noqa: E501
            "products { edges { node { id variants { edges { node { id } } } } } } customers { edges { node { id } } } }",  # noqa: E501
            "Bulk queries cannot contain more than 5 connections.",
        ),
        (
            "{ shopifyPaymentsAccount { id payouts { edges { node { id } } } } orders { edges { node { id } } } "
            "products { edges { node { id } } } customers { edges { node { id } } } }",
            None,
        ),
        (
            "{ products { edges { node { id variants { edges { node { id product { id variants { edges { node { id } } } } } } } } } } }",  # noqa: E501
            "Bulk queries cannot contain connections with a nesting depth greater than 2.",
        ),
        (ORDERS, "Queries that contain a connection field within a list field are not currently supported."),
        ("{ shop { name } }", "Bulk queries must contain at least one connection."),
        (
            "{ orders { edges { node { id colour } } } }",
            "Invalid bulk query: Cannot query field 'colour' on type 'Order'.",
        ),
    ],
)
def test_invalid_bulk_queries_are_refused(shared, query, message):
    result = run(shared, query)
    if message is None:  # 4 connections, nesting 1: accepted
        assert result["userErrors"] == []
        wait(shared, result["bulkOperation"]["id"])
        return
    assert result["bulkOperation"] is None
    assert result["userErrors"] == [{"field": ["query"], "message": message, "code": "INVALID"}]


def test_failed_operation_with_and_without_partial_data(fresh):
    control(
        fresh,
        "POST",
        "faults",
        [{"type": "bulk_failed", "partial_data": True}, {"type": "bulk_failed", "error_code": "TIMEOUT"}],
    )
    first = wait(fresh, run(fresh, PRODUCTS)["bulkOperation"]["id"])
    assert first["status"] == "FAILED"
    assert first["errorCode"] == "INTERNAL_SERVER_ERROR"
    assert first["url"] is None
    partial = download(first["partialDataUrl"])
    assert 0 < len(partial) < sum(1 + len(p.variants) for p in fresh.world.store.products)
    second = wait(fresh, run(fresh, PRODUCTS)["bulkOperation"]["id"])
    assert second["status"] == "FAILED"
    assert second["errorCode"] == "TIMEOUT"
    assert second["partialDataUrl"] is None
    third = wait(fresh, run(fresh, PRODUCTS)["bulkOperation"]["id"])
    assert third["status"] == "COMPLETED"
    _, stats = control(fresh, "GET", "stats")
    assert stats["shopify"]["bulk_failed"] == 2
    assert stats["shopify"]["bulk_completed"] == 1


def test_result_urls_expire(fresh):
    op = wait(fresh, run(fresh, PRODUCTS)["bulkOperation"]["id"])
    assert download(op["url"])
    control(fresh, "POST", "faults", [{"type": "expired_url"}])
    status, _headers, raw = http("GET", op["url"])
    assert status == 400
    assert b"<Code>ExpiredToken</Code>" in raw
    assert download(op["url"]), "the fault hit one download only"
    control(fresh, "POST", "advance", {"days": 8})
    status, _, raw = http("GET", op["url"])
    assert status == 400
    assert b"ExpiredToken" in raw
    expired = poll(fresh, op["id"])
    assert (expired["status"], expired["url"]) == ("EXPIRED", None), "7 days after completion"
    assert expired["objectCount"] == op["objectCount"]
    _, stats = control(fresh, "GET", "stats")
    assert stats["shopify"]["bulk_expired"] == 1
    status, _, raw = http("GET", op["url"].replace(op["url"].split("/")[-1].split(".")[0], "0" * 32))
    assert status == 404


def test_bulk_expired_fault_ends_operations_expired(fresh):
    assert control(fresh, "POST", "faults", [{"type": "bulk_expired"}])[0] == 200
    op = wait(fresh, run(fresh, PRODUCTS)["bulkOperation"]["id"])
    assert (op["status"], op["url"], op["errorCode"]) == ("EXPIRED", None, None)
    assert int(op["objectCount"]) > 0
    assert op["completedAt"] is not None
    assert wait(fresh, run(fresh, PRODUCTS)["bulkOperation"]["id"])["status"] == "COMPLETED", "one operation only"


def test_a_failed_operations_partial_data_url_expires_too(fresh):
    control(fresh, "POST", "faults", [{"type": "bulk_failed", "partial_data": True}])
    op = wait(fresh, run(fresh, PRODUCTS)["bulkOperation"]["id"])
    assert op["partialDataUrl"]
    assert download(op["partialDataUrl"])
    control(fresh, "POST", "advance", {"days": 7})
    later = poll(fresh, op["id"])
    assert (later["status"], later["errorCode"], later["partialDataUrl"]) == ("FAILED", "INTERNAL_SERVER_ERROR", None)
    assert http("GET", op["partialDataUrl"])[0] == 400


def test_bulk_honours_search_filters_and_counts_objects(shared):
    store = shared.world.store
    op = wait(
        shared, run(shared, '{ orders(query: "test:true") { edges { node { id test } } } }')["bulkOperation"]["id"]
    )
    lines = download(op["url"])
    assert Counter(line["test"] for line in lines) == Counter({True: sum(o.test for o in store.orders)})
    empty = wait(shared, run(shared, '{ orders(query: "id:<0") { edges { node { id } } } }')["bulkOperation"]["id"])
    assert empty["status"] == "COMPLETED"
    assert empty["objectCount"] == "0"
    assert empty["url"] is None


def test_group_objects_puts_children_right_after_their_parent(fresh):
    status, body = gql(fresh, RUN.replace("(query: $q)", "(query: $q, groupObjects: true)"), {"q": PRODUCTS})
    assert status == 200
    op = wait(fresh, body["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"])
    lines = download(op["url"])
    current = None
    for line in lines:
        if "__parentId" not in line:
            current = line["id"]
        else:
            assert line["__parentId"] == current


def test_a_bulk_query_beyond_the_tokens_scopes_fails_access_denied(fresh):
    from bloom_sandbox.shopify.api import LIMITED_TOKEN

    status, body = gql(fresh, RUN, {"q": "{ customers { edges { node { id } } } }"}, token=LIMITED_TOKEN)
    assert status == 200
    op = wait(fresh, body["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"])
    assert op["status"] == "FAILED"
    assert op["errorCode"] == "ACCESS_DENIED"


def test_truncated_result_download(fresh):
    op = wait(fresh, run(fresh, PRODUCTS)["bulkOperation"]["id"])
    full = http("GET", op["url"])[2]
    control(fresh, "POST", "faults", [{"type": "truncate", "path": "/admin/bulk-results/"}])
    import urllib.request
    from http.client import IncompleteRead

    try:
        with urllib.request.urlopen(op["url"], timeout=5) as response:
            response.read()
        raise AssertionError("expected a truncated body")
    except (IncompleteRead, ConnectionResetError) as exc:
        partial = getattr(exc, "partial", b"")
        assert len(partial) < len(full)
    assert http("GET", op["url"])[2] == full
