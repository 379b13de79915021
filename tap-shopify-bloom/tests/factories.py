"""Nodes in Shopify's GraphQL shapes, for the stub."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def money(amount: str, currency: str = "USD", presentment: str | None = None) -> dict:
    """A ``MoneyBag``."""
    return {
        "shopMoney": {"amount": amount, "currencyCode": currency},
        "presentmentMoney": {"amount": presentment or amount, "currencyCode": currency},
    }


def at(days_ago: float, now: datetime | None = None) -> str:
    """An ISO time ``days_ago`` before now."""
    moment = (now or datetime.now(UTC)) - timedelta(days=days_ago)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def order(number: int, updated_days_ago: float) -> dict:
    """An ``Order`` node with one line item, one shipping line, one refund and one transaction."""
    updated = at(updated_days_ago)
    return {
        "id": f"gid://shopify/Order/{number}",
        "name": f"#{number}",
        "number": number,
        "email": f"Buyer{number}@Example.com",
        "customer": {"id": f"gid://shopify/Customer/{number}"},
        "createdAt": updated,
        "processedAt": updated,
        "updatedAt": updated,
        "cancelledAt": None,
        "cancelReason": None,
        "closedAt": None,
        "test": False,
        "displayFinancialStatus": "PAID",
        "displayFulfillmentStatus": "FULFILLED",
        "currencyCode": "USD",
        "presentmentCurrencyCode": "USD",
        "subtotalPriceSet": money("20.00"),
        "totalDiscountsSet": money("2.00"),
        "totalShippingPriceSet": money("5.00"),
        "totalTaxSet": money("1.50"),
        "totalPriceSet": money("26.50"),
        "totalRefundedSet": money("0.00"),
        "sourceName": "web",
        "tags": ["vip"],
        "shippingAddress": {"countryCodeV2": "US"},
        "lineItems": {
            "pageInfo": {"hasNextPage": False},
            "nodes": [
                {
                    "id": f"gid://shopify/LineItem/{number}1",
                    "variant": {"id": "gid://shopify/ProductVariant/1"},
                    "product": {"id": "gid://shopify/Product/1"},
                    "sku": "SKU-1",
                    "title": "Shirt",
                    "quantity": 2,
                    "originalUnitPriceSet": money("11.00"),
                    "totalDiscountSet": money("2.00"),
                    "taxLines": [{"priceSet": money("1.00")}, {"priceSet": money("0.25")}],
                    "isGiftCard": False,
                    "requiresShipping": True,
                }
            ],
        },
        "shippingLines": {
            "nodes": [
                {
                    "id": f"gid://shopify/ShippingLine/{number}",
                    "title": "Standard",
                    "code": "STD",
                    "originalPriceSet": money("5.00"),
                    "discountedPriceSet": money("5.00"),
                    "taxLines": [{"priceSet": money("0.25")}],
                }
            ]
        },
        "refunds": [refund(number, updated)] if number % 2 else [],
        "transactions": [
            {
                "id": f"gid://shopify/OrderTransaction/{number}",
                "parentTransaction": None,
                "kind": "SALE",
                "status": "SUCCESS",
                "gateway": "shopify_payments",
                "amountSet": money("26.50"),
                "fees": [{"amount": {"amount": "0.77", "currencyCode": "USD"}}],
                "processedAt": updated,
                "test": False,
            }
        ],
    }


def refund(number: int, when: str) -> dict:
    """A ``Refund`` of the order's line item, one unit, with refunded shipping."""
    return {
        "id": f"gid://shopify/Refund/{number}",
        "createdAt": when,
        "processedAt": when,
        "note": None,
        "totalRefundedSet": money("10.25"),
        "refundShippingLines": {"nodes": [{"subtotalAmountSet": money("0.00"), "taxAmountSet": money("0.00")}]},
        "refundLineItems": {
            "nodes": [
                {
                    "id": f"gid://shopify/RefundLineItem/{number}",
                    "lineItem": {"id": f"gid://shopify/LineItem/{number}1"},
                    "quantity": 1,
                    "restockType": "RETURN",
                    "subtotalSet": money("9.00"),
                    "totalTaxSet": money("0.63"),
                }
            ]
        },
    }


def big_order(
    number: int, updated_days_ago: float, *, items: int, shipping: int, refunds: int, transactions: int
) -> dict:
    """An order with more nested objects than one page of the tap's order queries holds.

    Its first refund has ``items`` refund line items and ``shipping`` refunded shipping lines.
    """
    node = order(number, updated_days_ago)
    line_item = node["lineItems"]["nodes"][0]
    node["lineItems"]["nodes"] = [{**line_item, "id": f"{line_item['id']}-{i}"} for i in range(items)]
    line = node["shippingLines"]["nodes"][0]
    node["shippingLines"]["nodes"] = [{**line, "id": f"{line['id']}-{i}"} for i in range(shipping)]
    node["refunds"] = [
        {**refund(number, node["updatedAt"]), "id": f"gid://shopify/Refund/{number}-{i}"} for i in range(refunds)
    ]
    first = node["refunds"][0]
    item = first["refundLineItems"]["nodes"][0]
    first["refundLineItems"] = {"nodes": [{**item, "id": f"{item['id']}-{i}"} for i in range(items)]}
    first["refundShippingLines"] = {"nodes": first["refundShippingLines"]["nodes"] * shipping}
    sale = node["transactions"][0]
    node["transactions"] = [{**sale, "id": f"{sale['id']}-{i}"} for i in range(transactions)]
    return node


def product(number: int, updated_days_ago: float, variants: int = 1) -> dict:
    """A ``Product`` node with ``variants`` variants, each with a unit cost."""
    updated = at(updated_days_ago)
    return {
        "id": f"gid://shopify/Product/{number}",
        "title": f"Product {number}",
        "vendor": "Bloom",
        "productType": "Shirts",
        "status": "ACTIVE",
        "isGiftCard": False,
        "createdAt": updated,
        "updatedAt": updated,
        "variants": {
            "nodes": [
                {
                    "id": f"gid://shopify/ProductVariant/{number}{i:04d}",
                    "title": f"Size {i}",
                    "sku": f"SKU-{number}-{i}",
                    "price": "20.00",
                    "compareAtPrice": None,
                    "createdAt": updated,
                    "updatedAt": updated,
                    "inventoryItem": {
                        "id": f"gid://shopify/InventoryItem/{number}{i:04d}",
                        "unitCost": {"amount": "7.50", "currencyCode": "USD"},
                    },
                }
                for i in range(variants)
            ]
        },
    }


def customer(number: int, updated_days_ago: float) -> dict:
    """A ``Customer`` node."""
    updated = at(updated_days_ago)
    return {
        "id": f"gid://shopify/Customer/{number}",
        "firstName": "Ada",
        "lastName": f"Buyer{number}",
        "defaultEmailAddress": {"emailAddress": f"buyer{number}@example.com"},
        "defaultPhoneNumber": None,
        "defaultAddress": {"countryCodeV2": "US", "city": "Boston"},
        "createdAt": updated,
        "updatedAt": updated,
    }
