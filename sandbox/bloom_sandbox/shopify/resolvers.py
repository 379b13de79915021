"""Field values of the Shopify schema, computed from the store model.

``FIELDS[type][field](obj, ctx, args)`` gives a field's value; a field not listed reads the
attribute (or dict key) of the same name in snake_case. ``CONNECTIONS[type][field](obj, ctx,
args)`` gives the ordered :class:`Source` a connection pages over. The GraphQL executor
(``schema.py``) and the bulk JSONL writer (``bulk.py``) both read fields through these tables.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from graphql import GraphQLError

from bloom_sandbox.shopify.context import Context
from bloom_sandbox.shopify.ids import gid, parse_gid
from bloom_sandbox.shopify.pagination import Source
from bloom_sandbox.shopify.views import (
    CENT,
    ZERO,
    FeeView,
    InventoryItemView,
    PaymentsAccount,
    RefundShippingLineView,
    money,
    order_bag,
)
from bloom_sandbox.store.model import (
    BalanceTransaction,
    Customer,
    Fulfillment,
    LineItem,
    Order,
    Payout,
    Product,
    Refund,
    RefundLineItem,
    ShippingLine,
    Transaction,
    Variant,
)
from bloom_sandbox.store.vocabulary import GATEWAY_FEES

GATEWAY_NAMES = {
    "shopify_payments": "Shopify Payments",
    "paypal": "PayPal Express Checkout",
    "gift_card": "Gift card",
    "manual": "Manual",
    "bogus": "Bogus",
    "stripe": "Stripe",
}
COUNTRY_NAMES = {"US": "United States", "CA": "Canada", "GB": "United Kingdom", "DE": "Germany", "AU": "Australia"}
# The app that creates an order from each source_name: (App id, name); the ids are the sandbox's own.
ORDER_APPS = {
    "web": (580111, "Online Store"),
    "pos": (129785, "Point of Sale"),
    "shopify_draft_order": (1354745, "Draft Orders"),
    "iphone": (85045, "Shopify Mobile for iPhone"),
}
PLAN_NAMES = {"standard": "Basic", "advanced": "Advanced", "plus": "Plus", "enterprise": "Shopify Plus"}

# Payout summary parts the store has no transactions of (advances, reserves, retries, USDC rebates).
UNUSED_PAYOUT_SUMMARY = (
    "advanceFees",
    "advanceGross",
    "reservedFundsFee",
    "reservedFundsGross",
    "retriedPayoutsFee",
    "retriedPayoutsGross",
    "usdcRebateCreditAmount",
)

Resolver = Callable[[Any, Context, dict[str, Any]], Any]


def _root(resource: str, scope: str | None = None) -> Callable[[Any, Context, dict[str, Any]], Source]:
    def resolve(_obj: Any, ctx: Context, args: dict[str, Any]) -> Source:
        if scope:
            ctx.require(scope, resource)
        visible = ctx.order_visible() if resource == "orders" else None
        return ctx.index.source(resource, args, ctx, visible)

    return resolve


def _nested(items: Callable[[Any, Context], list[Any]]) -> Callable[[Any, Context, dict[str, Any]], Source]:
    """A nested connection in its natural order (cursor: the item's id)."""

    def resolve(obj: Any, ctx: Context, args: dict[str, Any]) -> Source:
        values = items(obj, ctx)
        reverse = bool(args.get("reverse"))
        if reverse:
            values = list(reversed(values))
        return Source(items=values, key=lambda i: (_item_id(i),), descending=reverse)

    return resolve


def _variants(product: Product, _ctx: Context, args: dict[str, Any]) -> Source:
    """A product's variants by ``sortKey``: POSITION (Shopify's default, the merchant's order) or ID."""
    key = (lambda v: (v.id,)) if args.get("sortKey") == "ID" else (lambda v: (v.position, v.id))
    reverse = bool(args.get("reverse"))
    values = sorted(product.variants, key=key, reverse=reverse)
    return Source(items=values, key=key, descending=reverse)


def _item_id(item: Any) -> int:
    if isinstance(item, RefundShippingLineView):
        return item.refund.id
    return item.id


CONNECTIONS: dict[str, dict[str, Resolver]] = {
    "QueryRoot": {
        "orders": _root("orders", "read_orders"),
        "products": _root("products", "read_products"),
        "customers": _root("customers", "read_customers"),
    },
    "ShopifyPaymentsAccount": {"payouts": _root("payouts"), "balanceTransactions": _root("balanceTransactions")},
    "Order": {
        "lineItems": _nested(lambda o, _c: o.line_items),
        "shippingLines": _nested(lambda o, _c: o.shipping_lines),
    },
    "Refund": {
        "refundLineItems": _nested(lambda r, _c: r.line_items),
        "refundShippingLines": _nested(lambda r, c: _refund_shipping(r, c)),
        "transactions": _nested(lambda r, c: _refund_transactions(r, c)),
    },
    "Product": {"variants": _variants},
}


def _refund_shipping(refund: Refund, ctx: Context) -> list[RefundShippingLineView]:
    if refund.shipping_subtotal == 0 and refund.shipping_tax == 0:
        return []
    return [RefundShippingLineView(refund, ctx.index.orders[refund.order_id])]


def _refund_transactions(refund: Refund, ctx: Context) -> list[Transaction]:
    order = ctx.index.orders[refund.order_id]
    return [t for t in order.transactions if t.kind == "REFUND" and t.processed_at == refund.processed_at]


# -- plain fields ----------------------------------------------------------------------------


def _node(_obj: Any, ctx: Context, args: dict[str, Any]) -> Any:
    return lookup_node(ctx, args["id"])


def lookup_node(ctx: Context, global_id: str) -> Any:
    """The object behind a global id, or None (also when the token may not see it)."""
    parsed = parse_gid(global_id)
    if parsed is None:
        raise GraphQLError(f"Invalid global id '{global_id}'", extensions={"code": "argumentLiteralsIncompatible"})
    kind, number = parsed
    index = ctx.index
    if kind == "Order":
        ctx.require("read_orders", "order")
        order = index.orders.get(number)
        visible = ctx.order_visible()
        return order if order is not None and (visible is None or visible(order)) else None
    if kind == "BulkOperation":
        return ctx.bulk.get(number) if ctx.bulk else None
    if kind == "Shop":
        return ctx.store.shop if number == 1 else None
    if kind == "ShopifyPaymentsAccount":
        return _payments_account(None, ctx, {}) if number == 1 else None
    if kind == "InventoryItem":
        variant = index.inventory_items.get(number)
        return InventoryItemView(variant) if variant else None
    if kind == "TransactionFee":
        pair = index.transactions.get(number)
        return FeeView(pair[0]) if pair and pair[0].fee else None
    table: dict[str, tuple[dict[int, Any], str | None]] = {
        "Product": (index.products, "read_products"),
        "ProductVariant": (index.variants, "read_products"),
        "Customer": (index.customers, "read_customers"),
        "ShopifyPaymentsPayout": (index.payouts, "read_shopify_payments_payouts"),
        "ShopifyPaymentsBalanceTransaction": (index.balance_transactions, "read_shopify_payments_payouts"),
    }
    pairs: dict[str, dict[int, tuple[Any, Order]]] = {
        "LineItem": index.line_items,
        "Refund": index.refunds,
        "OrderTransaction": index.transactions,
        "Fulfillment": index.fulfillments,
    }
    if kind in table:
        objects, scope = table[kind]
        if scope:
            ctx.require(scope, kind[0].lower() + kind[1:])
        return objects.get(number)
    if kind in pairs:
        ctx.require("read_orders", kind[0].lower() + kind[1:])
        pair = pairs[kind].get(number)
        return pair[0] if pair else None
    return None


def _count(resource: str, scope: str) -> Resolver:
    """A ``<resource>Count`` root field: Shopify's ``Count``, capped at ``limit`` (null: no cap)."""

    def resolve(_obj: Any, ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
        ctx.require(scope, f"{resource}Count")
        visible = ctx.order_visible() if resource == "orders" else None
        total = len(ctx.index.source(resource, {"query": args.get("query")}, ctx, visible).items)
        limit = args.get("limit")
        if limit is not None and total > limit:
            return {"count": limit, "precision": "AT_LEAST"}
        return {"count": total, "precision": "EXACT"}

    return resolve


def _payments_account(_obj: Any, ctx: Context, _args: dict[str, Any]) -> PaymentsAccount | None:
    """The Shopify Payments account; null (no error) when the shop does not use Shopify Payments."""
    ctx.require("read_shopify_payments_payouts", "shopifyPaymentsAccount")
    return PaymentsAccount() if ctx.store.shop.payments else None


def _order_app(order: Order) -> dict[str, Any]:
    app_id, name = ORDER_APPS.get(order.source_name, ORDER_APPS["web"])
    return {"id": gid("App", app_id), "name": name}


def _customer_of(order: Order, ctx: Context) -> Customer | None:
    ctx.require("read_customers", "customer")
    if order.customer_id is None:
        return None
    return ctx.index.customers.get(order.customer_id)


def _financial_status(order: Order) -> str:
    refunded = order.total_refunded
    if refunded <= 0:
        return "PAID"
    return "REFUNDED" if refunded >= order.total_price else "PARTIALLY_REFUNDED"


def _fulfillment_status(order: Order) -> str:
    if not order.fulfillments:
        return "UNFULFILLED"
    shipped = {i for f in order.fulfillments for i in f.line_item_ids}
    needed = {li.id for li in order.line_items if li.requires_shipping}
    return "FULFILLED" if needed <= shipped else "PARTIALLY_FULFILLED"


def _address(order: Order, ctx: Context) -> dict[str, Any] | None:
    if not _requires_shipping(order):
        return None
    customer = ctx.index.customers.get(order.customer_id) if order.customer_id is not None else None
    code = order.shipping_country
    return {
        "id": gid("MailingAddress", order.id),
        "city": customer.city if customer else None,
        "country": COUNTRY_NAMES.get(code, code),
        "countryCodeV2": code,
        "firstName": customer.first_name if customer else None,
        "lastName": customer.last_name if customer else None,
        "name": f"{customer.first_name} {customer.last_name}" if customer else None,
    }


def _requires_shipping(order: Order) -> bool:
    return any(li.requires_shipping for li in order.line_items)


def _current_subtotal(order: Order) -> Decimal:
    returned = sum((rli.subtotal for r in order.refunds for rli in r.line_items), ZERO)
    return order.subtotal - returned


def _tax_lines(amount: Decimal, base: Decimal, country: str, order: Order) -> list[dict[str, Any]]:
    if amount == 0:
        return []
    rate = float((amount / base).quantize(Decimal("0.0001"), ROUND_HALF_UP)) if base else 0.0
    return [
        {
            "title": f"{COUNTRY_NAMES.get(country, country)} Tax",
            "rate": rate,
            "ratePercentage": round(rate * 100, 2),
            "priceSet": order_bag(order, amount),
        }
    ]


def _line_order(li: LineItem, ctx: Context) -> Order:
    return ctx.index.line_items[li.id][1]


def _variant_product(v: Variant, ctx: Context) -> Product:
    return ctx.index.products[v.product_id]


def _refund_line_order(rli: RefundLineItem, ctx: Context) -> Order:
    return ctx.index.line_items[rli.line_item_id][1]


def _txn_order(t: Transaction, ctx: Context) -> Order:
    return ctx.index.orders[t.order_id]


def _payout_sum(payout: Payout, ctx: Context, kind: str, attr: str) -> Decimal:
    return sum((getattr(b, attr) for b in ctx.index.payout_lines.get(payout.id, []) if b.type == kind), ZERO)


def _shop_money(amount_of: Callable[[Any], Decimal]) -> Resolver:
    return lambda obj, ctx, _a: money(amount_of(obj), ctx.store.shop.currency)


def _payout_status(b: BalanceTransaction, ctx: Context) -> str:
    if b.payout_id is None:
        return "PENDING"
    return ctx.index.payouts[b.payout_id].status


FIELDS: dict[str, dict[str, Resolver]] = {
    "QueryRoot": {
        "shop": lambda _o, ctx, _a: ctx.store.shop,
        "node": _node,
        "nodes": lambda _o, ctx, a: [lookup_node(ctx, i) for i in a["ids"]],
        "order": _node,
        "product": _node,
        "customer": _node,
        "bulkOperation": _node,
        "currentBulkOperation": lambda _o, ctx, a: ctx.bulk.current(a.get("type") or "QUERY"),
        "shopifyPaymentsAccount": _payments_account,
        "ordersCount": _count("orders", "read_orders"),
        "productsCount": _count("products", "read_products"),
        "customersCount": _count("customers", "read_customers"),
    },
    "Shop": {
        "id": lambda _s, _c, _a: gid("Shop", 1),
        "email": lambda s, _c, _a: f"owner@{s.handle}.example.com",
        "currencyCode": lambda s, _c, _a: s.currency,
        "myshopifyDomain": lambda s, _c, _a: f"{s.handle}.myshopify.com",
        "timezoneAbbreviation": lambda s, ctx, _a: ctx.store.now.astimezone(ZoneInfo(s.iana_timezone)).tzname(),
        "plan": lambda s, _c, _a: {
            "displayName": PLAN_NAMES[s.plan],
            "publicDisplayName": PLAN_NAMES[s.plan],
            "partnerDevelopment": False,
            "shopifyPlus": s.plan in ("plus", "enterprise"),
        },
    },
    "Order": {
        "id": lambda o, _c, _a: gid("Order", o.id),
        "legacyResourceId": lambda o, _c, _a: o.id,
        "customer": lambda o, ctx, _a: _customer_of(o, ctx),
        "app": lambda o, _c, _a: _order_app(o),
        "currencyCode": lambda o, _c, _a: o.currency,
        "presentmentCurrencyCode": lambda o, _c, _a: o.presentment_currency,
        "subtotalPriceSet": lambda o, _c, _a: order_bag(o, o.subtotal),
        "currentSubtotalPriceSet": lambda o, _c, _a: order_bag(o, _current_subtotal(o)),
        "totalDiscountsSet": lambda o, _c, _a: order_bag(o, o.total_discounts),
        "totalShippingPriceSet": lambda o, _c, _a: order_bag(o, o.total_shipping),
        "totalTaxSet": lambda o, _c, _a: order_bag(o, o.total_tax),
        "totalPriceSet": lambda o, _c, _a: order_bag(o, o.total_price),
        "totalRefundedSet": lambda o, _c, _a: order_bag(o, o.total_refunded),
        "displayFinancialStatus": lambda o, _c, _a: _financial_status(o),
        "displayFulfillmentStatus": lambda o, _c, _a: _fulfillment_status(o),
        "shippingAddress": lambda o, ctx, _a: _address(o, ctx),
        "subtotalLineItemsQuantity": lambda o, _c, _a: sum(li.quantity for li in o.line_items),
        "refunds": lambda o, _c, a: o.refunds[: a["first"]] if a.get("first") is not None else o.refunds,
        "transactions": lambda o, _c, a: o.transactions[: a["first"]] if a.get("first") is not None else o.transactions,
        "fulfillments": lambda o, _c, a: o.fulfillments[: a["first"]] if a.get("first") is not None else o.fulfillments,
    },
    "LineItem": {
        "id": lambda li, _c, _a: gid("LineItem", li.id),
        "name": lambda li, ctx, _a: _line_name(li, ctx),
        "currentQuantity": lambda li, ctx, _a: li.quantity - _refunded_quantity(li, ctx),
        "variant": lambda li, ctx, _a: ctx.index.variants.get(li.variant_id),
        "product": lambda li, ctx, _a: ctx.index.products.get(li.product_id),
        "variantTitle": lambda li, ctx, _a: _variant_title(li, ctx),
        "vendor": lambda li, ctx, _a: ctx.index.products[li.product_id].vendor,
        "originalUnitPriceSet": lambda li, ctx, _a: order_bag(_line_order(li, ctx), li.unit_price),
        "originalTotalSet": lambda li, ctx, _a: order_bag(_line_order(li, ctx), li.unit_price * li.quantity),
        "totalDiscountSet": lambda li, ctx, _a: order_bag(_line_order(li, ctx), li.discount),
        "taxLines": lambda li, ctx, _a: _line_tax_lines(li, ctx),
    },
    "ShippingLine": {
        "id": lambda sl, _c, _a: gid("ShippingLine", sl.id),
        "carrierIdentifier": lambda _sl, _c, _a: None,
        "source": lambda _sl, _c, _a: "shopify",
        "isRemoved": lambda _sl, _c, _a: False,
        "originalPriceSet": lambda sl, ctx, _a: order_bag(ctx.shipping_order(sl), sl.price),
        "discountedPriceSet": lambda sl, ctx, _a: order_bag(ctx.shipping_order(sl), sl.price - sl.discount),
        "currentDiscountedPriceSet": lambda sl, ctx, _a: order_bag(ctx.shipping_order(sl), sl.price - sl.discount),
        "taxLines": lambda sl, ctx, _a: _shipping_tax_lines(sl, ctx),
    },
    "Refund": {
        "id": lambda r, _c, _a: gid("Refund", r.id),
        "legacyResourceId": lambda r, _c, _a: r.id,
        "order": lambda r, ctx, _a: ctx.index.orders[r.order_id],
        "updatedAt": lambda r, _c, _a: r.processed_at,
        "totalRefundedSet": lambda r, ctx, _a: order_bag(ctx.index.orders[r.order_id], r.total),
    },
    "RefundLineItem": {
        "id": lambda rli, _c, _a: gid("RefundLineItem", rli.id),
        "lineItem": lambda rli, ctx, _a: ctx.index.line_items[rli.line_item_id][0],
        "restockType": lambda rli, _c, _a: rli.restock_type,
        "restocked": lambda rli, _c, _a: rli.restock_type in ("RETURN", "CANCEL"),
        "priceSet": lambda rli, ctx, _a: order_bag(
            _refund_line_order(rli, ctx), ctx.index.line_items[rli.line_item_id][0].unit_price
        ),
        "subtotalSet": lambda rli, ctx, _a: order_bag(_refund_line_order(rli, ctx), rli.subtotal),
        "totalTaxSet": lambda rli, ctx, _a: order_bag(_refund_line_order(rli, ctx), rli.tax),
    },
    "RefundShippingLine": {
        "id": lambda v, _c, _a: gid("RefundShippingLine", v.refund.id),
        "shippingLine": lambda v, _c, _a: v.order.shipping_lines[0],
        "subtotalAmountSet": lambda v, _c, _a: order_bag(v.order, v.refund.shipping_subtotal),
        "taxAmountSet": lambda v, _c, _a: order_bag(v.order, v.refund.shipping_tax),
    },
    "OrderTransaction": {
        "id": lambda t, _c, _a: gid("OrderTransaction", t.id),
        "createdAt": lambda t, _c, _a: t.processed_at,
        "formattedGateway": lambda t, _c, _a: GATEWAY_NAMES.get(t.gateway, t.gateway),
        "manualPaymentGateway": lambda t, _c, _a: t.gateway == "manual",
        "order": lambda t, ctx, _a: _txn_order(t, ctx),
        "parentTransaction": lambda t, ctx, _a: ctx.index.transactions[t.parent_id][0] if t.parent_id else None,
        "amountSet": lambda t, ctx, _a: order_bag(_txn_order(t, ctx), t.amount),
        "fees": lambda t, _c, _a: [FeeView(t)] if t.fee else [],
    },
    "TransactionFee": {
        "id": lambda f, _c, _a: gid("TransactionFee", f.txn.id),
        "amount": lambda f, ctx, _a: money(f.txn.fee, ctx.store.shop.currency),
        "flatFee": lambda f, ctx, _a: money(GATEWAY_FEES.get(f.txn.gateway, (ZERO, ZERO))[1], ctx.store.shop.currency),
        "flatFeeName": lambda _f, _c, _a: None,
        "rate": lambda f, _c, _a: GATEWAY_FEES.get(f.txn.gateway, (ZERO, ZERO))[0],
        "rateName": lambda f, _c, _a: GATEWAY_NAMES.get(f.txn.gateway, f.txn.gateway),
        "taxAmount": lambda _f, ctx, _a: money(ZERO * CENT, ctx.store.shop.currency),
        "type": lambda _f, _c, _a: "payment",
    },
    "Fulfillment": {
        "id": lambda f, _c, _a: gid("Fulfillment", f.id),
        "legacyResourceId": lambda f, _c, _a: f.id,
        "name": lambda f, ctx, _a: f"{ctx.index.orders[f.order_id].name}-F{_fulfillment_position(f, ctx)}",
        "order": lambda f, ctx, _a: ctx.index.orders[f.order_id],
        "requiresShipping": lambda _f, _c, _a: True,
        "status": lambda _f, _c, _a: "SUCCESS",
        "totalQuantity": lambda f, ctx, _a: sum(
            ctx.index.line_items[i][0].quantity for i in f.line_item_ids if i in ctx.index.line_items
        ),
        "updatedAt": lambda f, _c, _a: f.created_at,
        "trackingInfo": lambda f, _c, _a: [{"company": f.carrier, "number": f.tracking_number, "url": None}],
    },
    "Customer": {
        "id": lambda c, _c, _a: gid("Customer", c.id),
        "legacyResourceId": lambda c, _c, _a: c.id,
        "displayName": lambda c, _c, _a: f"{c.first_name} {c.last_name}",
        "defaultEmailAddress": lambda c, _c, _a: {"emailAddress": c.email},
        "defaultPhoneNumber": lambda c, _c, _a: {"phoneNumber": c.phone} if c.phone else None,
        "defaultAddress": lambda c, _c, _a: {
            "id": gid("MailingAddress", c.id),
            "city": c.city,
            "country": COUNTRY_NAMES.get(c.country_code),
            "countryCodeV2": c.country_code,
            "firstName": c.first_name,
            "lastName": c.last_name,
            "name": f"{c.first_name} {c.last_name}",
        },
        "numberOfOrders": lambda c, ctx, _a: ctx.index.orders_of.get(c.id, 0),
        "amountSpent": lambda c, ctx, _a: money(ctx.index.spent_of.get(c.id, ZERO), ctx.store.shop.currency),
        "state": lambda _c, _x, _a: "ENABLED",
        "tags": lambda _c, _x, _a: [],
    },
    "Product": {
        "id": lambda p, _c, _a: gid("Product", p.id),
        "legacyResourceId": lambda p, _c, _a: p.id,
        "handle": lambda p, _c, _a: re.sub(r"[^a-z0-9]+", "-", p.title.lower()).strip("-") + f"-{p.id}",
        "tags": lambda _p, _c, _a: [],
    },
    "ProductVariant": {
        "id": lambda v, _c, _a: gid("ProductVariant", v.id),
        "legacyResourceId": lambda v, _c, _a: v.id,
        "displayName": lambda v, ctx, _a: f"{_variant_product(v, ctx).title} - {v.title}",
        "product": lambda v, ctx, _a: _variant_product(v, ctx),
        "inventoryItem": lambda v, _c, _a: InventoryItemView(v),
    },
    "InventoryItem": {
        "id": lambda i, _c, _a: gid("InventoryItem", i.variant.inventory_item_id),
        "legacyResourceId": lambda i, _c, _a: i.variant.inventory_item_id,
        "sku": lambda i, _c, _a: i.variant.sku,
        "tracked": lambda i, _c, _a: not i.variant.sku.startswith("GC-"),
        "unitCost": lambda i, ctx, _a: (
            money(i.variant.unit_cost, ctx.store.shop.currency) if i.variant.unit_cost is not None else None
        ),
        "createdAt": lambda i, _c, _a: i.variant.created_at,
        "updatedAt": lambda i, _c, _a: i.variant.updated_at,
    },
    "ShopifyPaymentsAccount": {
        "id": lambda a, _c, _x: gid("ShopifyPaymentsAccount", a.id),
        "activated": lambda _a, _c, _x: True,
        "defaultCurrency": lambda _a, ctx, _x: ctx.store.shop.currency,
    },
    "ShopifyPaymentsPayout": {
        "id": lambda p, _c, _a: gid("ShopifyPaymentsPayout", p.id),
        "legacyResourceId": lambda p, _c, _a: p.id,
        "net": _shop_money(lambda p: p.net),
        "gross": _shop_money(lambda p: p.gross),
        "transactionType": lambda _p, _c, _a: "DEPOSIT",
        "summary": lambda p, ctx, _a: {
            name: money(value, ctx.store.shop.currency)
            for name, value in (
                ("chargesGross", _payout_sum(p, ctx, "CHARGE", "amount")),
                ("chargesFee", _payout_sum(p, ctx, "CHARGE", "fee")),
                ("refundsFeeGross", _payout_sum(p, ctx, "REFUND", "amount")),
                ("refundsFee", _payout_sum(p, ctx, "REFUND", "fee")),
                ("adjustmentsGross", _payout_sum(p, ctx, "ADJUSTMENT", "amount")),
                ("adjustmentsFee", _payout_sum(p, ctx, "ADJUSTMENT", "fee")),
                *((name, ZERO * CENT) for name in UNUSED_PAYOUT_SUMMARY),
            )
        },
    },
    "ShopifyPaymentsBalanceTransaction": {
        "id": lambda b, _c, _a: gid("ShopifyPaymentsBalanceTransaction", b.id),
        "amount": _shop_money(lambda b: b.amount),
        "fee": _shop_money(lambda b: b.fee),
        "net": _shop_money(lambda b: b.net),
        "sourceId": lambda b, _c, _a: b.source_order_transaction_id,
        "sourceType": lambda b, _c, _a: b.type,
        "associatedOrder": lambda b, ctx, _a: (
            {"id": gid("Order", b.source_order_id), "name": ctx.index.orders[b.source_order_id].name}
            if b.source_order_id is not None
            else None
        ),
        "associatedPayout": lambda b, ctx, _a: {
            "id": gid("ShopifyPaymentsPayout", b.payout_id) if b.payout_id is not None else None,
            "status": _payout_status(b, ctx),
        },
    },
    "Mutation": {
        "bulkOperationRunQuery": lambda _o, ctx, a: ctx.bulk.run_query(ctx, a["query"], a.get("groupObjects", False)),
        "bulkOperationCancel": lambda _o, ctx, a: ctx.bulk.cancel(ctx, a["id"]),
    },
    "BulkOperation": {
        "id": lambda op, _c, _a: gid("BulkOperation", op.id),
        "status": lambda op, ctx, _a: ctx.bulk.status(op),
        "url": lambda op, ctx, _a: ctx.bulk.url(op, op.result, ctx.base_url),
        "partialDataUrl": lambda op, ctx, _a: ctx.bulk.url(op, op.partial, ctx.base_url),
    },
    "MoneyBag": {
        "shopMoney": lambda b, _c, _a: money(b.amount, b.currency),
        "presentmentMoney": lambda b, _c, _a: money(
            (b.amount * b.rate).quantize(CENT, ROUND_HALF_UP), b.presentment_currency
        ),
    },
}


def _refunded_quantity(li: LineItem, ctx: Context) -> int:
    order = _line_order(li, ctx)
    return sum(rli.quantity for r in order.refunds for rli in r.line_items if rli.line_item_id == li.id)


def _variant_title(li: LineItem, ctx: Context) -> str | None:
    variant = ctx.index.variants.get(li.variant_id)
    return None if variant is None or variant.title == "Default Title" else variant.title


def _line_name(li: LineItem, ctx: Context) -> str:
    title = _variant_title(li, ctx)
    return f"{li.title} - {title}" if title else li.title


def _line_tax_lines(li: LineItem, ctx: Context) -> list[dict[str, Any]]:
    order = _line_order(li, ctx)
    return _tax_lines(li.tax, li.unit_price * li.quantity - li.discount, order.shipping_country, order)


def _shipping_tax_lines(sl: ShippingLine, ctx: Context) -> list[dict[str, Any]]:
    order = ctx.shipping_order(sl)
    return _tax_lines(sl.tax, sl.price - sl.discount, order.shipping_country, order)


def _fulfillment_position(f: Fulfillment, ctx: Context) -> int:
    order = ctx.index.orders[f.order_id]
    return next((i for i, x in enumerate(order.fulfillments, 1) if x.id == f.id), 1)


# The type each Python object of the model shows as (for the Node interface and bulk __typename).
