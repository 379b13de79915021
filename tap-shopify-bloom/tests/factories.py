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
