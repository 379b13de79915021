"""Fields added from Shopify's 2026-10 schema: the Count roots, Order.app, the full payout summary and
ProductVariant.position."""

from __future__ import annotations

from decimal import Decimal

import pytest
from bloom_sandbox.shopify.api import LIMITED_TOKEN
from bloom_sandbox.shopify.resolvers import ORDER_APPS, UNUSED_PAYOUT_SUMMARY
from conftest import gql

COUNTS = """{ productsCount { count precision } customersCount { count precision }
  ordersCount { count precision } }"""


def test_count_roots_give_shopifys_count_shape(shared):
    store = shared.world.store
    status, body = gql(shared, COUNTS)
    assert status == 200
    assert body["data"] == {
        "productsCount": {"count": len(store.products), "precision": "EXACT"},
        "customersCount": {"count": len(store.customers), "precision": "EXACT"},
        "ordersCount": {"count": len(store.orders), "precision": "EXACT"},
    }
    assert body["extensions"]["cost"]["requestedQueryCost"] == 30, "each ...Count costs 10"


def test_count_roots_take_a_search_query_and_a_limit(shared):
    store = shared.world.store
    cutoff = store.customers[len(store.customers) // 2].created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    _, body = gql(shared, f'{{ customersCount(query: "created_at:>=\'{cutoff}\'") {{ count }} '
                          '  productsCount(query: "gift_card:true") { count } '
                          "  capped: customersCount(limit: 3) { count precision } "
                          "  all: ordersCount(limit: null) { count precision } }")  # fmt: skip
    data = body["data"]
    assert data["customersCount"]["count"] == sum(1 for c in store.customers if c.created_at.strftime(
        "%Y-%m-%dT%H:%M:%SZ") >= cutoff)  # fmt: skip
    assert data["productsCount"]["count"] == sum(1 for p in store.products if p.is_gift_card)
    assert data["capped"] == {"count": 3, "precision": "AT_LEAST"}
    assert data["all"] == {"count": len(store.orders), "precision": "EXACT"}


def test_customers_count_needs_read_customers(shared):
    _, body = gql(shared, "{ customersCount { count } productsCount { count } }", token=LIMITED_TOKEN)
    assert body["data"]["customersCount"] is None
    assert body["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
    assert body["data"]["productsCount"]["count"] == len(shared.world.store.products)


@pytest.mark.parametrize("source", sorted(ORDER_APPS))
def test_order_app_names_the_channel_that_created_it(shared, source):
    order = next(o for o in shared.world.store.orders if o.source_name == source)
    _, body = gql(shared, f'{{ order(id: "gid://shopify/Order/{order.id}") {{ sourceName app {{ id name }} }} }}')
    app_id, name = ORDER_APPS[source]
    assert body["data"]["order"] == {
        "sourceName": source,
        "app": {"id": f"gid://shopify/App/{app_id}", "name": name},
    }


SUMMARY = """{ shopifyPaymentsAccount { payouts(first: 20) { nodes { id net { amount } summary {
  adjustmentsFee { amount } adjustmentsGross { amount } advanceFees { amount } advanceGross { amount }
  chargesFee { amount } chargesGross { amount currencyCode } refundsFee { amount } refundsFeeGross { amount }
  reservedFundsFee { amount } reservedFundsGross { amount } retriedPayoutsFee { amount }
  retriedPayoutsGross { amount } usdcRebateCreditAmount { amount } } } } } }"""


def test_payout_summary_has_every_part_and_adds_up_to_net(shared):
    _, body = gql(shared, SUMMARY)
    payouts = body["data"]["shopifyPaymentsAccount"]["payouts"]["nodes"]
    assert payouts
    for payout in payouts:
        parts = {name: Decimal(money["amount"]) for name, money in payout["summary"].items()}
        assert all(parts[name] == 0 for name in UNUSED_PAYOUT_SUMMARY)
        assert payout["summary"]["chargesGross"]["currencyCode"] == "USD"
        gross = parts["chargesGross"] + parts["refundsFeeGross"] + parts["adjustmentsGross"]
        fees = parts["chargesFee"] + parts["refundsFee"] + parts["adjustmentsFee"]
        assert gross - fees == Decimal(payout["net"]["amount"]), payout["id"]


VARIANTS = """query($id: ID!, $sort: ProductVariantSortKeys, $after: String, $reverse: Boolean) {
  product(id: $id) { variants(first: 1, after: $after, sortKey: $sort, reverse: $reverse) {
    nodes { id position } pageInfo { hasNextPage endCursor } } } }"""


def _walk_variants(sandbox, product_id: int, **variables) -> list[dict]:
    """Every variant of a product, one per page (the cursors of the sort in use)."""
    seen, after = [], None
    while True:
        _, body = gql(sandbox, VARIANTS, {"id": f"gid://shopify/Product/{product_id}", "after": after, **variables})
        page = body["data"]["product"]["variants"]
        seen += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


def test_variant_positions_are_one_to_n_and_some_products_are_reordered(shared):
    products = [p for p in shared.world.store.products if len(p.variants) > 1]
    for product in products:
        assert sorted(v.position for v in product.variants) == list(range(1, len(product.variants) + 1))
    reordered = [p for p in products if [v.position for v in p.variants] != sorted(v.position for v in p.variants)]
    assert 0 < len(reordered) < len(products)


@pytest.mark.parametrize(("sort", "reverse"), [(None, False), ("POSITION", True), ("ID", False)])
def test_product_variants_page_in_position_order_by_default(shared, sort, reverse):
    products = shared.world.store.products
    product = next(p for p in products if [v.position for v in p.variants] != sorted(v.position for v in p.variants))
    served = _walk_variants(shared, product.id, sort=sort, reverse=reverse)
    by = (lambda v: v.id) if sort == "ID" else (lambda v: v.position)
    expected = sorted(product.variants, key=by, reverse=reverse)
    assert served == [{"id": f"gid://shopify/ProductVariant/{v.id}", "position": v.position} for v in expected]
