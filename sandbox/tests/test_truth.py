"""/_sandbox/truth: report figures that add up and agree with the store and with what the API serves."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
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


def test_a_cost_change_costs_the_orders_after_it_only(fresh):
    """/_sandbox/reprice at a moment inside the last advance: orders before it keep the old cost
    in the truth's COGS, orders after it get the new one, and the API serves the new cost."""
    control(fresh, "POST", "advance", {"days": 5})
    store = fresh.world.store
    since = store.now - timedelta(days=5)
    recent = [o for o in store.orders if o.processed_at >= since and not o.test]
    sold = Counter(li.product_id for o in recent for li in o.line_items if not li.is_gift_card)
    product_id = next(pid for pid, _ in sold.most_common() if store_product(store, pid).updated_at < since)
    product = store_product(store, product_id)
    at = sorted(o.processed_at for o in recent if any(li.product_id == product_id for li in o.line_items))[0]
    at = (at + timedelta(seconds=1)).replace(microsecond=0)  # that first order of the window came before
    _, before = control(fresh, "GET", "truth")
    old = {v.id: v.unit_cost for v in product.variants}

    status, answer = control(fresh, "POST", "reprice", {"product_id": product_id, "at": at.isoformat()})
    assert status == 200, answer
    assert {v["id"]: Decimal(v["cost_before"]) for v in answer["variants"]} == {
        vid: cost for vid, cost in old.items() if cost is not None
    }
    _, after = control(fresh, "GET", "truth")

    # What the change adds: (new - old cost) x units on lines of orders processed at or after it,
    # less the same on their restocked refund lines, each on its own shop-local day.
    delta = {v.id: v.unit_cost - old[v.id] for v in product.variants if old[v.id] is not None}
    zone = ZoneInfo(store.shop.iana_timezone)
    expected: Counter[str] = Counter()
    for order in (o for o in store.orders if not o.test and o.processed_at >= at):
        changed_lines = {li.id: delta[li.variant_id] for li in order.line_items if li.variant_id in delta}
        for li in order.line_items:
            if li.id in changed_lines:
                expected[order.processed_at.astimezone(zone).date().isoformat()] += changed_lines[li.id] * li.quantity
        for refund in order.refunds:
            for rli in refund.line_items:
                if rli.line_item_id in changed_lines and rli.restock_type in ("RETURN", "CANCEL"):
                    day = refund.processed_at.astimezone(zone).date().isoformat()
                    expected[day] -= changed_lines[rli.line_item_id] * rli.quantity
    assert any(expected.values())  # the window holds orders of the product after the change
    changed = {
        day: Decimal(after["days"][day]["cogs"]) - Decimal(before["days"][day]["cogs"])
        for day in after["days"]
        if after["days"][day]["cogs"] != before["days"].get(day, {}).get("cogs")
    }
    assert changed == {day: value for day, value in expected.items() if value}
    query = f"""{{ product(id: "gid://shopify/Product/{product_id}") {{ updatedAt
      variants(first: 10) {{ nodes {{ id inventoryItem {{ unitCost {{ amount }} }} }} }} }} }}"""
    _, body = gql(fresh, query)
    served = body["data"]["product"]
    assert served["updatedAt"] == at.strftime("%Y-%m-%dT%H:%M:%SZ")
    costs = {
        node["id"]: Decimal(node["inventoryItem"]["unitCost"]["amount"])
        for node in served["variants"]["nodes"]
        if node["inventoryItem"]["unitCost"]
    }
    assert costs == {f"gid://shopify/ProductVariant/{vid}": old[vid] + change for vid, change in delta.items()}


def test_reprice_refuses_a_moment_outside_the_products_life(fresh):
    store = fresh.world.store
    product = next(p for p in store.products if not p.is_gift_card)
    for bad in (
        {"product_id": product.id, "at": (store.now + timedelta(days=1)).isoformat()},
        {"product_id": product.id, "at": (product.updated_at - timedelta(days=1)).isoformat()},
        {"product_id": product.id, "at": "2026-11-30T00:00:00"},  # no time zone
        {"product_id": 10**9, "at": store.now.isoformat()},
        {"at": store.now.isoformat()},
    ):
        status, body = control(fresh, "POST", "reprice", bad)
        assert status == 400, (bad, body)
        assert body["error"]
    assert all(not v.cost_changes for v in product.variants)


def store_product(store, product_id):
    return next(p for p in store.products if p.id == product_id)


def test_net_sales_with_cost_recorded_leave_out_what_sold_without_a_cost(shared, truth):
    missing = truth["missing_costs"]
    assert missing  # the store sells a few variants without a cost
    variants = {f"gid://shopify/ProductVariant/{v.id}": v for p in shared.world.store.products for v in p.variants}
    assert all(variants[vid].unit_cost is None for vid in missing)
    left_out = sum((Decimal(v["net_sales"]) for v in missing.values()), ZERO)
    assert Decimal(truth["totals"]["net_sales_with_cost_recorded"]) == Decimal(truth["totals"]["net_sales"]) - left_out
