"""Field values of the Shopify schema, computed from the store model.

``FIELDS[type][field](obj, ctx, args)`` gives a field's value; a field not listed reads the
attribute (or dict key) of the same name in snake_case. ``CONNECTIONS[type][field](obj, ctx,
args)`` gives the ordered :class:`Source` a connection pages over. The GraphQL executor
(``schema.py``) and the bulk JSONL writer (``bulk.py``) both read fields through these tables.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from graphql import GraphQLError

from bloom_sandbox.shopify.ids import gid, parse_gid
from bloom_sandbox.shopify.pagination import Source
from bloom_sandbox.shopify.search import Accessor, parse_search
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
    Store,
    Transaction,
    Variant,
)

CENT = Decimal("0.01")
ZERO = Decimal("0")
RECENT_ORDERS = timedelta(days=60)  # visible without read_all_orders
GATEWAY_NAMES = {
    "shopify_payments": "Shopify Payments",
    "paypal": "PayPal Express Checkout",
    "gift_card": "Gift card",
    "manual": "Manual",
    "bogus": "Bogus",
}
FEE_TERMS = {"shopify_payments": (Decimal("0.029"), Decimal("0.30")), "paypal": (Decimal("0.0349"), Decimal("0.49"))}
COUNTRY_NAMES = {"US": "United States", "CA": "Canada", "GB": "United Kingdom", "DE": "Germany", "AU": "Australia"}
PLAN_NAMES = {"standard": "Basic", "advanced": "Advanced", "plus": "Plus", "enterprise": "Shopify Plus"}
DOCS_SCOPES = "https://shopify.dev/api/usage/access-scopes"

Resolver = Callable[[Any, "Context", dict[str, Any]], Any]


# -- views of things the model does not keep as objects --------------------------------------


@dataclass(slots=True)
class Bag:
    """A MoneyBag: ``amount`` in the shop currency, converted to the presentment currency by ``rate``."""

    amount: Decimal
    currency: str
    presentment_currency: str
    rate: Decimal


@dataclass(slots=True)
class InventoryItemView:
    variant: Variant


@dataclass(slots=True)
class RefundShippingLineView:
    refund: Refund
    order: Order


@dataclass(slots=True)
class FeeView:
    txn: Transaction


@dataclass(slots=True)
class PaymentsAccount:
    id: int = 1


def money(amount: Decimal, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currencyCode": currency}


def order_bag(order: Order, amount: Decimal) -> Bag:
    return Bag(amount, order.currency, order.presentment_currency, order.presentment_rate)


# -- the index: lookups the resolvers need, rebuilt when the store changes --------------------


class Index:
    """Id lookups and per-customer aggregates over a store (rebuild after the store changes)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.orders = {o.id: o for o in store.orders}
        self.line_items: dict[int, tuple[LineItem, Order]] = {}
        self.refunds: dict[int, tuple[Refund, Order]] = {}
        self.transactions: dict[int, tuple[Transaction, Order]] = {}
        self.fulfillments: dict[int, tuple[Fulfillment, Order]] = {}
        self.shipping_lines: dict[int, Order] = {}
        orders_of: dict[int, int] = defaultdict(int)
        spent_of: dict[int, Decimal] = defaultdict(Decimal)
        for o in store.orders:
            for li in o.line_items:
                self.line_items[li.id] = (li, o)
            for r in o.refunds:
                self.refunds[r.id] = (r, o)
            for t in o.transactions:
                self.transactions[t.id] = (t, o)
            for f in o.fulfillments:
                self.fulfillments[f.id] = (f, o)
            for sl in o.shipping_lines:
                self.shipping_lines[sl.id] = o
            if o.customer_id is not None and not o.test:
                orders_of[o.customer_id] += 1
                spent_of[o.customer_id] += o.total_price - o.total_refunded
        self.orders_of, self.spent_of = orders_of, spent_of
        self.products = {p.id: p for p in store.products}
        self.variants = {v.id: v for p in store.products for v in p.variants}
        self.inventory_items = {v.inventory_item_id: v for v in self.variants.values()}
        self.customers = {c.id: c for c in store.customers}
        self.payouts = {p.id: p for p in store.payouts}
        self.balance_transactions = {b.id: b for b in store.balance_transactions}
        self.payout_lines: dict[int, list[BalanceTransaction]] = defaultdict(list)
        for b in store.balance_transactions:
            if b.payout_id is not None:
                self.payout_lines[b.payout_id].append(b)
        self.zone = ZoneInfo(store.shop.iana_timezone)
        self._sorted: dict[tuple[str, str], list[Any]] = {}
        self._filtered: OrderedDict[tuple[Any, ...], Source] = OrderedDict()
        self._lock = threading.Lock()

    def sorted_items(self, resource: str, sort_key: str) -> list[Any]:
        """All items of a root resource in ascending ``sort_key`` order (cached)."""
        cache_key = (resource, sort_key)
        with self._lock:
            cached = self._sorted.get(cache_key)
        if cached is None:
            items = ROOTS[resource].items(self.store)
            key = ROOTS[resource].sort_keys[sort_key]
            cached = sorted(items, key=key)
            with self._lock:
                self._sorted[cache_key] = cached
        return cached

    def source(
        self, resource: str, args: dict[str, Any], ctx: Context, visible: Callable[[Any], bool] | None
    ) -> Source:
        """The filtered, sorted items a root connection pages over (recent results cached)."""
        root = ROOTS[resource]
        sort_key = args.get("sortKey") or root.default_sort
        if sort_key not in root.sort_keys:
            sort_key = "ID"
        reverse = bool(args.get("reverse"))
        query = args.get("query")
        cache_key = (resource, sort_key, reverse, query, visible is not None)
        search = parse_search(query, root.search, self.zone)
        if search.warnings:
            ctx.search_warnings.append({"path": [resource], "query": query, "warnings": search.warnings})
        with self._lock:
            hit = self._filtered.get(cache_key)
            if hit is not None:
                self._filtered.move_to_end(cache_key)
                return hit
        key = root.sort_keys[sort_key]
        items = [
            i
            for i in self.sorted_items(resource, sort_key)
            if (visible is None or visible(i)) and search.matches(i, root.search)
        ]
        if reverse:
            items.reverse()
        source = Source(items=items, key=key, descending=reverse, keys=[key(i) for i in items])
        with self._lock:
            self._filtered[cache_key] = source
            while len(self._filtered) > 16:
                self._filtered.popitem(last=False)
        return source


@dataclass
class Context:
    """What resolvers see of the request: the store, its index, the token's scopes, the bulk operations."""

    store: Store
    index: Index
    scopes: frozenset[str]
    bulk: Any = None  # bulk.BulkManager
    base_url: str = ""
    search_warnings: list[dict[str, Any]] = field(default_factory=list)

    def require(self, scope: str, field_name: str) -> None:
        """Raise Shopify's ACCESS_DENIED error unless the token has ``scope``."""
        if scope not in self.scopes:
            required = f"`{scope}` access scope."
            raise GraphQLError(
                f"Access denied for {field_name} field. Required access: {required}",
                extensions={"code": "ACCESS_DENIED", "documentation": DOCS_SCOPES, "requiredAccess": required},
            )

    def shipping_order(self, line: ShippingLine) -> Order:
        return self.index.shipping_lines[line.id]

    def order_visible(self) -> Callable[[Order], bool] | None:
        """Without ``read_all_orders`` only the last 60 days of orders are visible."""
        if "read_all_orders" in self.scopes:
            return None
        cutoff = self.store.now - RECENT_ORDERS
        return lambda o: o.created_at >= cutoff


# -- root resources: items, sort keys, search fields -----------------------------------------


def _ts(moment: datetime | None) -> int:
    return int(moment.timestamp() * 1_000_000) if moment else 0


@dataclass
class Root:
    items: Callable[[Store], list[Any]]
    sort_keys: dict[str, Callable[[Any], tuple[Any, ...]]]
    default_sort: str
    search: dict[str, Accessor]


def _time_sorts(**fields: str) -> dict[str, Callable[[Any], tuple[Any, ...]]]:
    out: dict[str, Callable[[Any], tuple[Any, ...]]] = {"ID": lambda i: (i.id,)}
    for sort_key, attr in fields.items():
        out[sort_key] = lambda i, a=attr: (_ts(getattr(i, a)), i.id)
    return out


ROOTS: dict[str, Root] = {
    "orders": Root(
        items=lambda s: s.orders,
        sort_keys={
            **_time_sorts(PROCESSED_AT="processed_at", CREATED_AT="created_at", UPDATED_AT="updated_at"),
            "ORDER_NUMBER": lambda o: (o.number, o.id),
        },
        default_sort="PROCESSED_AT",
        search={
            "created_at": ("time", lambda o: o.created_at),
            "updated_at": ("time", lambda o: o.updated_at),
            "processed_at": ("time", lambda o: o.processed_at),
            "test": ("bool", lambda o: o.test),
            "id": ("int", lambda o: o.id),
            "name": ("str", lambda o: o.name),
            "email": ("str", lambda o: o.email),
            "default": ("str", lambda o: f"{o.name} {o.email}"),
        },
    ),
    "products": Root(
        items=lambda s: s.products,
        sort_keys={**_time_sorts(CREATED_AT="created_at", UPDATED_AT="updated_at"), "TITLE": lambda p: (p.title, p.id)},
        default_sort="ID",
        search={
            "created_at": ("time", lambda p: p.created_at),
            "updated_at": ("time", lambda p: p.updated_at),
            "id": ("int", lambda p: p.id),
            "status": ("str", lambda p: p.status),
            "gift_card": ("bool", lambda p: p.is_gift_card),
            "title": ("str", lambda p: p.title),
            "default": ("str", lambda p: p.title),
        },
    ),
    "customers": Root(
        items=lambda s: s.customers,
        sort_keys=_time_sorts(CREATED_AT="created_at", UPDATED_AT="updated_at"),
        default_sort="ID",
        search={
            "created_at": ("time", lambda c: c.created_at),
            "customer_date": ("time", lambda c: c.created_at),
            "updated_at": ("time", lambda c: c.updated_at),
            "id": ("int", lambda c: c.id),
            "email": ("str", lambda c: c.email),
            "country": ("str", lambda c: c.country_code),
            "default": ("str", lambda c: f"{c.first_name} {c.last_name} {c.email}"),
        },
    ),
    "payouts": Root(
        items=lambda s: s.payouts,
        sort_keys=_time_sorts(ISSUED_AT="issued_at"),
        default_sort="ISSUED_AT",
        search={
            "issued_at": ("time", lambda p: p.issued_at),
            "id": ("int", lambda p: p.id),
            "status": ("str", lambda p: p.status),
        },
    ),
    "balanceTransactions": Root(
        items=lambda s: s.balance_transactions,
        sort_keys=_time_sorts(PROCESSED_AT="transaction_date"),
        default_sort="PROCESSED_AT",
        search={
            "processed_at": ("time", lambda b: b.transaction_date),
            "id": ("int", lambda b: b.id),
            "transaction_type": ("str", lambda b: b.type),
            "payout_status": ("str", lambda b: "paid" if b.payout_id else "pending"),
        },
    ),
}


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
    "Product": {"variants": _nested(lambda p, _c: p.variants)},
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
        ctx.require("read_shopify_payments_payouts", "shopifyPaymentsAccount")
        return PaymentsAccount() if number == 1 else None
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


def _payments_account(_obj: Any, ctx: Context, _args: dict[str, Any]) -> PaymentsAccount:
    ctx.require("read_shopify_payments_payouts", "shopifyPaymentsAccount")
    return PaymentsAccount()


def _orders_count(_obj: Any, ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    ctx.require("read_orders", "ordersCount")
    source = ctx.index.source("orders", {"query": args.get("query")}, ctx, ctx.order_visible())
    limit = args.get("limit")
    total = len(source.items)
    if limit is not None and total > limit:
        return {"count": limit, "precision": "AT_LEAST"}
    return {"count": total, "precision": "EXACT"}


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
        "ordersCount": _orders_count,
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
        "flatFee": lambda f, ctx, _a: money(FEE_TERMS.get(f.txn.gateway, (ZERO, ZERO))[1], ctx.store.shop.currency),
        "flatFeeName": lambda _f, _c, _a: None,
        "rate": lambda f, _c, _a: FEE_TERMS.get(f.txn.gateway, (ZERO, ZERO))[0],
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
TYPE_NAMES: dict[type, str] = {
    Order: "Order",
    LineItem: "LineItem",
    Refund: "Refund",
    RefundLineItem: "RefundLineItem",
    Transaction: "OrderTransaction",
    Fulfillment: "Fulfillment",
    Product: "Product",
    Variant: "ProductVariant",
    Customer: "Customer",
    Payout: "ShopifyPaymentsPayout",
    BalanceTransaction: "ShopifyPaymentsBalanceTransaction",
    ShippingLine: "ShippingLine",
    InventoryItemView: "InventoryItem",
    RefundShippingLineView: "RefundShippingLine",
    FeeView: "TransactionFee",
    PaymentsAccount: "ShopifyPaymentsAccount",
}


def object_gid(obj: Any) -> str | None:
    """The global id of a model object (the ``__parentId`` of its children in bulk output)."""
    name = TYPE_NAMES.get(type(obj))
    if name is None:
        return getattr(obj, "gid", None)
    if isinstance(obj, InventoryItemView):
        return gid(name, obj.variant.inventory_item_id)
    if isinstance(obj, RefundShippingLineView):
        return gid(name, obj.refund.id)
    if isinstance(obj, FeeView):
        return gid(name, obj.txn.id)
    return gid(name, obj.id)
