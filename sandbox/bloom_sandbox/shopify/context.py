"""What resolvers work with: an index of the store, the request's context, the root resources.

``Index`` holds id lookups and cached sorted/filtered lists (rebuilt when the store changes);
``Context`` is one request's view (store, index, scopes); ``ROOTS`` says, per root connection,
which items it pages over, its sort keys and its search fields.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from graphql import GraphQLError

from bloom_sandbox.shopify.pagination import Source
from bloom_sandbox.shopify.search import Accessor, parse_search
from bloom_sandbox.store.model import (
    BalanceTransaction,
    Fulfillment,
    LineItem,
    Order,
    Refund,
    ShippingLine,
    Store,
    Transaction,
)

RECENT_ORDERS = timedelta(days=60)  # visible without read_all_orders
DOCS_SCOPES = "https://shopify.dev/api/usage/access-scopes"


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
