"""The Shopify emulator over HTTP: auth, versions, refusals, scopes, search filters, pagination, shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from bloom_sandbox.shopify.api import LIMITED_TOKEN
from conftest import NOW, TOKEN, gql, http

UNAUTHORIZED = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}


def ids(body: dict, root: str = "orders") -> list[int]:
    return [int(n["id"].rsplit("/", 1)[1]) for n in body["data"][root]["nodes"]]


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("token", ["", "shpat_wrong", TOKEN.upper()])
def test_bad_or_missing_token_gets_shopifys_401(shared, token):
    status, body = gql(shared, "{ shop { name } }", token=token)
    assert status == 401
    assert body == UNAUTHORIZED


def test_unknown_paths_and_methods_are_shopifys_404(shared):
    for method, path in (("POST", "/admin/api/2026-10/nothing.json"), ("GET", "/admin/api/2026-10/graphql.json"),
                         ("POST", "/admin/api/latest/graphql.json")):  # fmt: skip
        status, _, raw = http(
            method, shared.url + path, {"query": "{ shop { name } }"}, {"X-Shopify-Access-Token": TOKEN}
        )
        assert status == 404, path
        assert json.loads(raw) == {"errors": "Not Found"}


def test_retired_versions_are_answered_with_the_oldest_supported(shared):
    url = f"{shared.url}/admin/api/2023-04/graphql.json"
    status, headers, raw = http("POST", url, {"query": "{ shop { name } }"}, {"X-Shopify-Access-Token": TOKEN})
    assert status == 200
    assert headers["X-Shopify-API-Version"] == "2025-10"
    assert json.loads(raw)["data"]["shop"]["name"] == "Bloom Botanicals"
    _, headers, _ = http("POST", url.replace("2023-04", "2026-10"), {"query": "{ shop { name } }"},
                         {"X-Shopify-Access-Token": TOKEN})  # fmt: skip
    assert headers["X-Shopify-API-Version"] == "2026-10"


def test_missing_query_is_a_400(shared):
    status, _, raw = http("POST", f"{shared.url}/admin/api/2026-10/graphql.json", {"variables": {}},
                          {"X-Shopify-Access-Token": TOKEN})  # fmt: skip
    assert status == 400
    assert json.loads(raw) == {"errors": {"query": "Required parameter missing or invalid"}}


def test_shop_fields(shared):
    status, body = gql(
        shared,
        "{ shop { id name currencyCode ianaTimezone myshopifyDomain plan { publicDisplayName shopifyPlus partnerDevelopment } } }",  # noqa: E501
    )
    assert status == 200
    assert body["data"]["shop"] == {
        "id": "gid://shopify/Shop/1",
        "name": "Bloom Botanicals",
        "currencyCode": "USD",
        "ianaTimezone": "America/New_York",
        "myshopifyDomain": "bloom-botanicals.myshopify.com",
        "plan": {"publicDisplayName": "Basic", "shopifyPlus": False, "partnerDevelopment": False},
    }


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("{ shop { nonsense } }", "Cannot query field 'nonsense' on type 'Shop'"),
        ("{ orders(first: 5, sortKey: RELEVANCE_ISH) { nodes { id } } }", "RELEVANCE_ISH"),
        ("{ orders(first: 5) { nodes { id lineItems { nodes { id } } } } }", None),
        ("{ shop { name }", "Syntax Error"),
        ("{ orders(first: 5) }", "must have a selection of subfields"),
    ],
)
def test_invalid_queries_are_refused_with_graphql_errors(shared, query, fragment):
    status, body = gql(shared, query)
    assert status == 200
    assert "data" not in body or body["data"] is None
    assert body["errors"]
    if fragment:
        assert fragment in body["errors"][0]["message"]


def test_connections_need_first_or_last_and_at_most_250(shared):
    _, body = gql(shared, "{ orders(first: 5) { nodes { id lineItems { nodes { id } } } } }")
    assert body["errors"][0]["message"] == "you must provide one of first or last"
    assert body["errors"][0]["path"] == ["orders", "nodes", "lineItems"]
    _, body = gql(shared, "{ orders(first: 251) { nodes { id } } }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "250" in body["errors"][0]["message"]
    _, body = gql(shared, "query($n: Int) { products(first: $n) { nodes { id } } }", {"n": 300})
    assert "250" in body["errors"][0]["message"]
    _, body = gql(shared, "{ orders(first: 250) { nodes { id } } }")
    assert len(body["data"]["orders"]["nodes"]) == 250


def test_paging_through_all_orders_gives_each_once_in_order(shared):
    store = shared.world.store
    seen: list[int] = []
    after = None
    while True:
        _, body = gql(
            shared,
            "query($after: String) { orders(first: 250, after: $after, sortKey: ID) "
            "{ nodes { id } pageInfo { hasNextPage hasPreviousPage endCursor } } }",
            {"after": after},
        )
        seen += ids(body)
        info = body["data"]["orders"]["pageInfo"]
        assert info["hasPreviousPage"] == (after is not None)
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert seen == sorted(o.id for o in store.orders)


def test_reverse_sort_keys_and_backward_paging(shared):
    store = shared.world.store
    _, body = gql(
        shared, "{ orders(first: 20, sortKey: UPDATED_AT, reverse: true) { edges { cursor node { id updatedAt } } } }"
    )
    newest = sorted(store.orders, key=lambda o: (o.updated_at, o.id), reverse=True)[:20]
    assert [int(e["node"]["id"].rsplit("/", 1)[1]) for e in body["data"]["orders"]["edges"]] == [o.id for o in newest]
    cursor = body["data"]["orders"]["edges"][10]["cursor"]
    _, back = gql(shared, "query($c: String) { orders(last: 5, before: $c, sortKey: UPDATED_AT, reverse: true) "
                          "{ nodes { id } pageInfo { hasNextPage hasPreviousPage } } }", {"c": cursor})  # fmt: skip
    assert ids(back) == [o.id for o in newest[5:10]]
    assert back["data"]["orders"]["pageInfo"]["hasPreviousPage"] is True


def test_updated_at_window_returns_exactly_the_store_orders_in_it(shared):
    store = shared.world.store
    start, end = NOW - timedelta(days=40), NOW - timedelta(days=10)
    expected = sorted(o.id for o in store.orders if start <= o.updated_at < end)
    query = f"updated_at:>='{iso(start)}' AND updated_at:<'{iso(end)}'"
    got: list[int] = []
    after = None
    while True:
        _, body = gql(shared, "query($q: String, $after: String) { orders(first: 100, after: $after, query: $q, "
                              "sortKey: UPDATED_AT) { nodes { id updatedAt } pageInfo { hasNextPage endCursor } } }",
                      {"q": query, "after": after})  # fmt: skip
        for node in body["data"]["orders"]["nodes"]:
            moment = datetime.fromisoformat(node["updatedAt"].replace("Z", "+00:00"))
            assert start <= moment < end
        got += ids(body)
        if not body["data"]["orders"]["pageInfo"]["hasNextPage"]:
            break
        after = body["data"]["orders"]["pageInfo"]["endCursor"]
    assert expected
    assert sorted(got) == expected


@pytest.mark.parametrize("field", ["created_at", "processed_at"])
def test_other_time_filters(shared, field):
    store = shared.world.store
    start = NOW - timedelta(days=7)
    attr = field
    expected = {o.id for o in store.orders if getattr(o, attr) >= start}
    _, body = gql(shared, f'{{ orders(first: 250, query: "{field}:>={iso(start)}") {{ nodes {{ id }} }} }}')
    assert set(ids(body)) == expected


def test_date_only_filters_use_the_shop_time_zone_and_unknown_fields_warn(shared):
    store = shared.world.store
    local_midnight = datetime(2026, 11, 20, 5, tzinfo=UTC)  # 2026-11-20 00:00 in New York (EST)
    expected = {o.id for o in store.orders if o.created_at >= local_midnight}
    _, body = gql(shared, '{ orders(first: 250, query: "created_at:>=2026-11-20 colour:blue") { nodes { id } } }')
    assert set(ids(body)) == expected
    assert body["extensions"]["search"][0]["warnings"][0]["field"] == "colour"


def test_test_filter_and_orders_count(shared):
    store = shared.world.store
    _, body = gql(
        shared, '{ orders(first: 250, query: "test:true") { nodes { id test } } ordersCount { count precision } }'
    )
    assert {n["id"] for n in body["data"]["orders"]["nodes"]} == {
        f"gid://shopify/Order/{o.id}" for o in store.orders if o.test
    }
    assert body["data"]["ordersCount"] == {"count": len(store.orders), "precision": "EXACT"}


def test_transactions_and_payments_filters(shared):
    store = shared.world.store
    start = NOW - timedelta(days=30)
    _, body = gql(shared, f'{{ shopifyPaymentsAccount {{ payouts(first: 250, query: "issued_at:>={iso(start)}") '
                          f'{{ nodes {{ id }} }} balanceTransactions(first: 250, query: "processed_at:>={iso(start)}") '
                          "{ nodes { id } } } }")  # fmt: skip
    account = body["data"]["shopifyPaymentsAccount"]
    assert {n["id"] for n in account["payouts"]["nodes"]} == {
        f"gid://shopify/ShopifyPaymentsPayout/{p.id}" for p in store.payouts if p.issued_at >= start
    }
    assert {n["id"] for n in account["balanceTransactions"]["nodes"]} == {
        f"gid://shopify/ShopifyPaymentsBalanceTransaction/{b.id}"
        for b in store.balance_transactions
        if b.transaction_date >= start
    }


ORDER_QUERY = """query($id: ID!) { order(id: $id) {
  id name number test processedAt cancelledAt displayFinancialStatus
  subtotalPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
  totalPriceSet { shopMoney { amount } presentmentMoney { amount currencyCode } }
  totalRefundedSet { shopMoney { amount } }
  lineItems(first: 50) { nodes { id quantity isGiftCard originalUnitPriceSet { shopMoney { amount } }
    totalDiscountSet { shopMoney { amount } } taxLines { priceSet { shopMoney { amount } } }
    variant { id price compareAtPrice inventoryItem { unitCost { amount currencyCode } } } } }
  shippingLines(first: 5) { nodes { title code discountedPriceSet { shopMoney { amount } } } }
  refunds { id processedAt totalRefundedSet { shopMoney { amount } }
    refundLineItems(first: 50) { nodes { quantity restockType lineItem { id } subtotalSet { shopMoney { amount } }
      totalTaxSet { shopMoney { amount } } } }
    refundShippingLines(first: 5) { nodes { subtotalAmountSet { shopMoney { amount } } } } }
  transactions { id kind status gateway test processedAt parentTransaction { id }
    amountSet { shopMoney { amount } } fees { amount { amount currencyCode } rate flatFee { amount } } }
  fulfillments { trackingInfo { company number } }
} }"""


def test_an_order_in_shopifys_shapes_matches_the_store(shared):
    store = shared.world.store
    order = next(o for o in store.orders if o.refunds and o.presentment_currency != "USD" and o.cancelled_at is None)
    _, body = gql(shared, ORDER_QUERY, {"id": f"gid://shopify/Order/{order.id}"})
    got = body["data"]["order"]
    assert got["name"] == order.name
    assert got["number"] == order.number
    assert Decimal(got["totalPriceSet"]["shopMoney"]["amount"]) == order.total_price
    presentment = got["totalPriceSet"]["presentmentMoney"]
    assert presentment["currencyCode"] == order.presentment_currency
    assert Decimal(presentment["amount"]) == (order.total_price * order.presentment_rate).quantize(Decimal("0.01"))
    assert Decimal(got["totalRefundedSet"]["shopMoney"]["amount"]) == order.total_refunded
    assert got["displayFinancialStatus"] in ("PARTIALLY_REFUNDED", "REFUNDED")
    assert [Decimal(n["totalDiscountSet"]["shopMoney"]["amount"]) for n in got["lineItems"]["nodes"]] == [
        li.discount for li in order.line_items
    ]
    refund = got["refunds"][0]
    assert sum(Decimal(n["subtotalSet"]["shopMoney"]["amount"]) for n in refund["refundLineItems"]["nodes"]) == sum(
        rli.subtotal for rli in order.refunds[0].line_items
    )
    sales = [t for t in got["transactions"] if t["kind"] in ("SALE", "CAPTURE") and t["status"] == "SUCCESS"]
    assert sum(Decimal(f["amount"]["amount"]) for t in sales for f in t["fees"]) == sum(
        t.fee for t in order.transactions if t.kind in ("SALE", "CAPTURE") and t.status == "SUCCESS"
    )
    refunds = [t for t in got["transactions"] if t["kind"] == "REFUND"]
    assert all(t["parentTransaction"] for t in refunds)


def test_node_lookup_and_unknown_ids(shared):
    store = shared.world.store
    variant = store.products[1].variants[0]
    _, body = gql(shared, f'{{ node(id: "gid://shopify/ProductVariant/{variant.id}") {{ __typename ... on ProductVariant '  # noqa: E501
                          "{ sku inventoryItem { unitCost { amount } } } } missing: order(id: \"gid://shopify/Order/999999\") { id } }")  # fmt: skip  # noqa: E501
    assert body["data"]["node"]["__typename"] == "ProductVariant"
    assert body["data"]["node"]["sku"] == variant.sku
    assert body["data"]["missing"] is None


def test_limited_scopes_hide_old_orders_and_deny_payouts_and_customers(shared):
    store = shared.world.store
    _, body = gql(shared, "{ ordersCount { count } }", token=LIMITED_TOKEN)
    recent = sum(1 for o in store.orders if o.created_at >= store.now - timedelta(days=60))
    assert body["data"]["ordersCount"]["count"] == recent < len(store.orders)
    _, body = gql(shared, "{ shopifyPaymentsAccount { id } }", token=LIMITED_TOKEN)
    assert body["data"] == {"shopifyPaymentsAccount": None}
    error = body["errors"][0]
    assert error["extensions"]["code"] == "ACCESS_DENIED"
    assert "read_shopify_payments_payouts" in error["extensions"]["requiredAccess"]
    assert error["path"] == ["shopifyPaymentsAccount"]
    _, body = gql(shared, "{ customers(first: 1) { nodes { id } } }", token=LIMITED_TOKEN)
    assert body["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
    _, body = gql(shared, "{ orders(first: 2) { nodes { name customer { id } } } }", token=LIMITED_TOKEN)
    assert [e["path"] for e in body["errors"]] == [
        ["orders", "nodes", 0, "customer"],
        ["orders", "nodes", 1, "customer"],
    ]
    assert all(n["customer"] is None and n["name"] for n in body["data"]["orders"]["nodes"])


def test_deprecated_fields_are_flagged_in_a_header(shared):
    url = f"{shared.url}/admin/api/2026-10/graphql.json"
    _, headers, _ = http("POST", url, {"query": "{ shop { plan { displayName } } }"}, {"X-Shopify-Access-Token": TOKEN})
    assert "ShopPlan.displayName" in headers["X-Shopify-API-Deprecated-Reason"]
    _, headers, _ = http(
        "POST", url, {"query": "{ shop { plan { publicDisplayName } } }"}, {"X-Shopify-Access-Token": TOKEN}
    )
    assert "X-Shopify-API-Deprecated-Reason" not in headers


def test_products_variants_customers(shared):
    store = shared.world.store
    _, body = gql(shared, "{ products(first: 250) { nodes { id isGiftCard variants(first: 10) { nodes { id price "
                          "compareAtPrice inventoryItem { unitCost { amount } } } } } } "
                          "customers(first: 5, sortKey: UPDATED_AT, reverse: true) { nodes { id numberOfOrders "
                          "amountSpent { amount } defaultEmailAddress { emailAddress } } } }")  # fmt: skip
    products = body["data"]["products"]["nodes"]
    assert len(products) == len(store.products)
    variants = {v["id"]: v for p in products for v in p["variants"]["nodes"]}
    for product in store.products:
        for variant in product.variants:
            got = variants[f"gid://shopify/ProductVariant/{variant.id}"]
            assert Decimal(got["price"]) == variant.price
            cost = got["inventoryItem"]["unitCost"]
            assert (Decimal(cost["amount"]) if cost else None) == variant.unit_cost
    customer = body["data"]["customers"]["nodes"][0]
    newest = max(store.customers, key=lambda c: (c.updated_at, c.id))
    assert customer["id"] == f"gid://shopify/Customer/{newest.id}"
    assert customer["defaultEmailAddress"]["emailAddress"] == newest.email
    assert int(customer["numberOfOrders"]) == sum(1 for o in store.orders if o.customer_id == newest.id and not o.test)


def test_search_or_not_and_negation(shared):
    store = shared.world.store
    _, body = gql(shared, "{ orders(first: 10, query: \"name:#1001 OR name:'#1002'\") { nodes { name } } }")
    assert sorted(n["name"] for n in body["data"]["orders"]["nodes"]) == ["#1001", "#1002"]
    _, body = gql(
        shared, '{ a: ordersCount(query: "-test:true") { count } b: ordersCount(query: "NOT test:true") { count } }'
    )
    expected = sum(1 for o in store.orders if not o.test)
    assert body["data"]["a"]["count"] == body["data"]["b"]["count"] == expected


def test_raw_graphql_bodies_are_accepted(shared):
    import urllib.request

    request = urllib.request.Request(
        f"{shared.url}/admin/api/2026-10/graphql.json",
        data=b"{ shop { currencyCode } }",
        headers={"Content-Type": "application/graphql", "X-Shopify-Access-Token": TOKEN},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read())["data"] == {"shop": {"currencyCode": "USD"}}
