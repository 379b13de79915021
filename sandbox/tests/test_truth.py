"""/_sandbox/truth: report figures that add up and agree with the store and with what the API serves."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from bloom_sandbox.store.truth import MONEY_FIGURES
from conftest import control, download, gql, run, wait

ZERO = Decimal(0)


@pytest.fixture(scope="module")
def truth(shared):
    status, body = control(shared, "GET", "truth")
    assert status == 200
    return body


def test_totals_are_the_sums_of_the_days(truth):
    for figure in MONEY_FIGURES:
        assert sum(Decimal(day[figure]) for day in truth["days"].values()) == Decimal(truth["totals"][figure]), figure
        assert all(isinstance(day[figure], str) for day in truth["days"].values())
    assert sum(day["orders"] for day in truth["days"].values()) == truth["totals"]["orders"]
    for day in truth["days"].values():
        assert Decimal(day["net_sales"]) == Decimal(day["gross_sales"]) - Decimal(day["discounts"]) - Decimal(
            day["returns"]
        )
        assert Decimal(day["total_sales"]) == (
            Decimal(day["net_sales"]) + Decimal(day["shipping_charged"]) + Decimal(day["taxes"])
        )


def test_orders_are_counted_on_their_shop_local_day(shared, truth):
    zone = ZoneInfo("America/New_York")
    expected = Counter(
        o.processed_at.astimezone(zone).date().isoformat() for o in shared.world.store.orders if not o.test
    )
    got = {day: v["orders"] for day, v in truth["days"].items() if v["orders"]}
    assert got == dict(expected)
    late_evening = [o for o in shared.world.store.orders if o.processed_at.hour < 4 and not o.test]
    assert late_evening, "some orders fall on the previous local day"


def test_total_sales_agree_with_order_totals_and_refunds(shared, truth):
    store = shared.world.store
    sold = ZERO
    returned = ZERO
    for order in store.orders:
        if order.test:
            continue
        gift = {li.id for li in order.line_items if li.is_gift_card}
        sold += order.total_price - sum((li.unit_price * li.quantity for li in order.line_items if li.id in gift), ZERO)
        for refund in order.refunds:
            gift_back = sum((r.subtotal + r.tax for r in refund.line_items if r.line_item_id in gift), ZERO)
            returned += refund.total - gift_back
    assert Decimal(truth["totals"]["total_sales"]) == sold - returned
    assert truth["totals"]["orders"] == sum(1 for o in store.orders if not o.test)


def test_counts_match_the_store(shared, truth):
    store = shared.world.store
    counts = truth["counts"]
    assert counts["orders"] == len(store.orders)
    assert counts["customers"] == len(store.customers)
    assert counts["payouts"] == len(store.payouts)
    assert counts["balance_transactions"] == len(store.balance_transactions)
    assert counts["variants"] == sum(len(p.variants) for p in store.products)


def test_payouts_equal_their_balance_transactions_and_what_is_served(shared, truth):
    store = shared.world.store
    nets: dict[int, Decimal] = {}
    for b in store.balance_transactions:
        if b.payout_id is not None:
            nets[b.payout_id] = nets.get(b.payout_id, ZERO) + b.net
    assert all(p.net == nets[p.id] for p in store.payouts)
    served = ZERO
    after = None
    while True:
        _, body = gql(
            shared,
            "query($a: String) { shopifyPaymentsAccount { payouts(first: 250, after: $a) "
            "{ nodes { net { amount } } pageInfo { hasNextPage endCursor } } } }",
            {"a": after},
        )
        page = body["data"]["shopifyPaymentsAccount"]["payouts"]
        served += sum(Decimal(n["net"]["amount"]) for n in page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert served == Decimal(truth["totals"]["payouts"]) == sum((p.net for p in store.payouts), ZERO)


def test_transaction_fees_and_cogs(shared, truth):
    store = shared.world.store
    fees = sum(
        (
            t.fee
            for o in store.orders
            if not o.test
            for t in o.transactions
            if t.status == "SUCCESS" and t.kind != "REFUND"
        ),
        ZERO,
    )
    assert Decimal(truth["totals"]["transaction_fees"]) == fees
    costs = {v.id: v.unit_cost for p in store.products for v in p.variants}
    cogs = ZERO
    for order in store.orders:
        if order.test:
            continue
        lines = {li.id: li for li in order.line_items}
        cogs += sum(((costs[li.variant_id] or ZERO) * li.quantity for li in order.line_items), ZERO)
        for refund in order.refunds:
            for r in refund.line_items:
                if r.restock_type in ("RETURN", "CANCEL"):
                    cogs -= (costs[lines[r.line_item_id].variant_id] or ZERO) * r.quantity
    assert Decimal(truth["totals"]["cogs"]) == cogs


def test_truth_follows_advance(fresh):
    _, before = control(fresh, "GET", "truth")
    control(fresh, "POST", "advance", {"days": 5})
    _, after = control(fresh, "GET", "truth")
    assert after["now"] == "2026-12-03T00:00:00Z"
    assert after["counts"]["orders"] > before["counts"]["orders"]
    new_days = set(after["days"]) - set(before["days"])
    assert new_days
    assert all(day >= "2026-11-27" for day in new_days)
    _, body = gql(fresh, '{ ordersCount(query: "created_at:>=2026-11-28T00:00:00Z") { count } }')
    assert body["data"]["ordersCount"]["count"] == after["counts"]["orders"] - before["counts"]["orders"]


def test_served_bulk_data_adds_up_to_the_truth(shared, truth):
    """Gross sales and discounts recomputed from a bulk export equal the truth's totals."""
    query = """{ orders { edges { node { id test lineItems { edges { node { isGiftCard quantity
      originalUnitPriceSet { shopMoney { amount } } totalDiscountSet { shopMoney { amount } } } } } } } } }"""
    op = wait(shared, run(shared, query)["bulkOperation"]["id"])
    lines = download(op["url"])
    test_orders = {line["id"] for line in lines if "__parentId" not in line and line["test"]}
    gross = discounts = ZERO
    for line in lines:
        if "__parentId" in line and line["__parentId"] not in test_orders and not line["isGiftCard"]:
            gross += Decimal(line["originalUnitPriceSet"]["shopMoney"]["amount"]) * line["quantity"]
            discounts += Decimal(line["totalDiscountSet"]["shopMoney"]["amount"])
    assert gross == Decimal(truth["totals"]["gross_sales"])
    assert discounts == Decimal(truth["totals"]["discounts"])
