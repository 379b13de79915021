"""Writes tests/cassettes/*.yaml: Shopify answers in the shapes of shopify.dev's examples."""

import json
import pathlib

import yaml

out = pathlib.Path(__file__).parent
URI = "https://bloom-demo.myshopify.com/admin/api/2026-10/graphql.json"
HEADERS = {
    "Content-Type": ["application/json; charset=utf-8"],
    "X-Shopify-API-Version": ["2026-10"],
    "X-Request-Id": ["6c3b2a7e-0f4e-4c47-9a6a-3c1f7d5e9b21"],
}


def cost(requested, actual, available):
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": available, "restoreRate": 100.0},
        }
    }


def money(a, c="EUR", p=None, pc="USD"):
    return {"shopMoney": {"amount": a, "currencyCode": c}, "presentmentMoney": {"amount": p or a, "currencyCode": pc}}


def interaction(operation, body, status=200, message="OK", headers=HEADERS):
    return {
        "request": {
            "body": json.dumps({"operationName": operation}),
            "headers": {"X-Shopify-Access-Token": ["FILTERED"], "Content-Type": ["application/json"]},
            "method": "POST",
            "uri": URI,
        },
        "response": {
            "status": {"code": status, "message": message},
            "headers": headers,
            "body": {"string": json.dumps(body)},
        },
    }


shop = {
    "data": {
        "shop": {
            "id": "gid://shopify/Shop/548380009",
            "name": "Bloom Demo",
            "myshopifyDomain": "bloom-demo.myshopify.com",
            "currencyCode": "EUR",
            "ianaTimezone": "Europe/Berlin",
            "plan": {"publicDisplayName": "Grow"},
        }
    },
    "extensions": cost(2, 2, 1998.0),
}
order = {
    "id": "gid://shopify/Order/5990211404067",
    "name": "#1042",
    "number": 42,
    "email": "jane@example.com",
    "customer": {"id": "gid://shopify/Customer/7412345678901"},
    "createdAt": "2026-11-24T09:12:45Z",
    "processedAt": "2026-11-24T09:12:44Z",
    "updatedAt": "2026-11-25T16:03:10Z",
    "cancelledAt": None,
    "cancelReason": None,
    "closedAt": None,
    "test": False,
    "displayFinancialStatus": "PARTIALLY_REFUNDED",
    "displayFulfillmentStatus": "FULFILLED",
    "currencyCode": "EUR",
    "presentmentCurrencyCode": "USD",
    "subtotalPriceSet": money("45.00", p="48.60"),
    "totalDiscountsSet": money("5.00", p="5.40"),
    "totalShippingPriceSet": money("4.90", p="5.29"),
    "totalTaxSet": money("9.48", p="10.24"),
    "totalPriceSet": money("59.38", p="64.13"),
    "totalRefundedSet": money("23.80", p="25.70"),
    "sourceName": "web",
    "tags": ["wholesale", "repeat"],
    "shippingAddress": {"countryCodeV2": "DE"},
    "lineItems": {
        "pageInfo": {"hasNextPage": False},
        "nodes": [
            {
                "id": "gid://shopify/LineItem/15377217552675",
                "variant": {"id": "gid://shopify/ProductVariant/49021234567"},
                "product": {"id": "gid://shopify/Product/9012345678"},
                "sku": "TEE-BLK-M",
                "title": "Organic Tee",
                "quantity": 2,
                "originalUnitPriceSet": money("25.00", p="27.00"),
                "totalDiscountSet": money("5.00", p="5.40"),
                "taxLines": [{"priceSet": money("8.55", p="9.23")}],
                "isGiftCard": False,
                "requiresShipping": True,
            }
        ],
    },
    "shippingLines": {
        "nodes": [
            {
                "id": "gid://shopify/ShippingLine/4871234567",
                "title": "DHL Paket",
                "code": "DHL",
                "originalPriceSet": money("4.90", p="5.29"),
                "discountedPriceSet": money("4.90", p="5.29"),
                "taxLines": [{"priceSet": money("0.93", p="1.01")}],
            }
        ]
    },
    "refunds": [
        {
            "id": "gid://shopify/Refund/998877665",
            "createdAt": "2026-11-25T16:03:09Z",
            "processedAt": "2026-11-25T16:03:09Z",
            "note": "damaged",
            "totalRefundedSet": money("23.80", p="25.70"),
        }
    ],
}
refund_details = {
    "data": {
        "nodes": [
            {
                "id": "gid://shopify/Refund/998877665",
                "refundShippingLines": {"nodes": []},
                "refundLineItems": {
                    "nodes": [
                        {
                            "id": "gid://shopify/RefundLineItem/556677",
                            "lineItem": {"id": "gid://shopify/LineItem/15377217552675"},
                            "quantity": 1,
                            "restockType": "RETURN",
                            "subtotalSet": money("20.00", p="21.60"),
                            "totalTaxSet": money("3.80", p="4.10"),
                        }
                    ]
                },
            }
        ]
    },
    "extensions": cost(52, 5, 1972.0),
}
orders = {
    "data": {
        "orders": {
            "pageInfo": {"hasNextPage": False, "endCursor": "eyJsYXN0X2lkIjo1OTkwMjExNDA0MDY3fQ=="},
            "nodes": [order],
        }
    },
    "extensions": cost(184, 23, 1977.0),
}
throttled = {
    "errors": [
        {
            "message": "Throttled",
            "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
        }
    ],
    "extensions": {
        "cost": {
            "requestedQueryCost": 184,
            "actualQueryCost": None,
            "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 150.0, "restoreRate": 100.0},
        }
    },
}
invalid = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
count = {"data": {"ordersCount": {"count": 1, "precision": "EXACT"}}, "extensions": cost(10, 10, 1988.0)}
docs = {
    "version": 1,
    "interactions": [
        interaction("Shop", shop),
        interaction("OrdersCount", count),
        interaction("Orders", throttled),
        interaction("Orders", orders),
        interaction("RefundDetails", refund_details),
        # The orders stream's own run after the early live window: nothing new since.
        interaction("OrdersCount", count),
        interaction("Orders", orders),
    ],
}
(out / "shop_and_orders.yaml").write_text(yaml.safe_dump(docs, sort_keys=False, width=10**6))
docs = {
    "version": 1,
    "interactions": [
        interaction(
            "Shop",
            invalid,
            status=401,
            message="Unauthorized",
            headers={"Content-Type": ["application/json; charset=utf-8"]},
        )
    ],
}
(out / "invalid_token.yaml").write_text(yaml.safe_dump(docs, sort_keys=False, width=10**6))
# Shopify's unavailable shops (shopify.dev/docs/api/usage/response-codes): a frozen shop
# (unpaid bill) answers 402, a locked one 423, with the bodies stores were seen to send.
for name, status, message, body in [
    ("frozen_shop", 402, "Payment Required", {"errors": "Unavailable Shop"}),
    ("locked_shop", 423, "Locked", {"errors": "This store is unavailable"}),
]:
    docs = {
        "version": 1,
        "interactions": [
            interaction(
                "Shop",
                body,
                status=status,
                message=message,
                headers={"Content-Type": ["application/json; charset=utf-8"]},
            )
        ],
    }
    (out / f"{name}.yaml").write_text(yaml.safe_dump(docs, sort_keys=False, width=10**6))
