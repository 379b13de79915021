"""Nested objects beyond one page of a query (line items, refunds, variants ...) all arrive."""

from __future__ import annotations

import pytest
from tap_shopify_bloom.bulk import BulkClient

from tests.factories import big_order, order, product
from tests.helpers import run_sync

SIZES = {"items": 130, "shipping": 7, "refunds": 12, "transactions": 55}


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch):
    monkeypatch.setattr(BulkClient, "poll_seconds", 0.01)


@pytest.mark.parametrize("bulk_threshold", [0, 1], ids=["paged", "bulk"])
def test_orders_and_transactions_are_complete(stub, stub_config, bulk_threshold):
    stub.data["orders"] = [big_order(3000, 1, **SIZES), order(3001, 2)]
    stub.data["transactions_orders"] = stub.data["orders"]
    config = {**stub_config, "bulk_threshold": bulk_threshold}
    result = run_sync(config, streams=["orders", "transactions"])
    row = next(r for r in result.records["orders"] if r["id"] == "gid://shopify/Order/3000")
    assert len(row["line_items"]) == SIZES["items"]
    assert len(row["shipping_lines"]) == SIZES["shipping"]
    assert len(row["refunds"]) == SIZES["refunds"]
    assert len({r["id"] for r in row["refunds"]}) == SIZES["refunds"]
    first = row["refunds"][0]
    assert len(first["refund_line_items"]) == SIZES["items"]
    assert (first["shipping_subtotal"], first["shipping_tax"]) == ("0.00", "0.00")
    transactions = [t for t in result.records["transactions"] if t["order_id"] == row["id"]]
    assert len({t["id"] for t in transactions}) == len(transactions) == SIZES["transactions"]


def test_refunded_shipping_beyond_the_first_page_is_summed(stub, stub_config):
    big = big_order(3000, 1, items=1, shipping=7, refunds=1, transactions=1)
    refunded = big["refunds"][0]["refundShippingLines"]["nodes"]
    refunded[:] = [{**line, "subtotalAmountSet": {**line["subtotalAmountSet"]}} for line in refunded]
    for line in refunded:
        line["subtotalAmountSet"]["shopMoney"] = {"amount": "1.00", "currencyCode": "USD"}
    stub.data["orders"] = [big]
    result = run_sync({**stub_config, "bulk_threshold": 0}, streams=["orders"])
    assert result.records["orders"][0]["refunds"][0]["shipping_subtotal"] == "7.00"


def test_products_have_every_variant(stub, stub_config):
    stub.data["products"] = [product(10, 1, variants=260), product(11, 2)]
    result = run_sync({**stub_config, "bulk_threshold": 0}, streams=["products"])
    by_id = {p["id"]: p for p in result.records["products"]}
    assert len(by_id["gid://shopify/Product/10"]["variants"]) == 260
    assert len({v["id"] for v in by_id["gid://shopify/Product/10"]["variants"]}) == 260
    assert by_id["gid://shopify/Product/10"]["variants"][-1]["unit_cost"] == "7.50"
    assert len(by_id["gid://shopify/Product/11"]["variants"]) == 1
