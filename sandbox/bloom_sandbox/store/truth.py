"""Ground truth of a store: the report figures of transform/DEFINITIONS.md and object counts.

Computed from the store model only (never from what an API served), so tests can compare the
taps' and dbt's results with it. Money is summed exactly and written as decimal strings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bloom_sandbox.store.model import Order, Store, Variant

CENT = Decimal("0.01")
MONEY_FIGURES = (
    "gross_sales",
    "discounts",
    "returns",
    "net_sales",
    "shipping_charged",
    "taxes",
    "total_sales",
    "cogs",
    "net_sales_with_cost_recorded",
    "transaction_fees",
    "third_party_transaction_fees",
    "payouts",
)
FEE_KINDS = ("SALE", "CAPTURE")
# Shopify's fee on payments through another gateway than its own, by the shop's plan (its
# published pricing: Basic 2 %, Advanced 0.5 %, Plus 0.2 %); manual payments and gift cards
# carry none.
THIRD_PARTY_FEE_PERCENT = {
    "standard": Decimal("2.0"),
    "advanced": Decimal("0.5"),
    "plus": Decimal("0.2"),
    "enterprise": Decimal("0.2"),
}
THIRD_PARTY_FEE_EXEMPT = ("shopify_payments", "manual", "gift_card")
RESTOCKED = ("RETURN", "CANCEL")


def compute_truth(store: Store) -> dict[str, Any]:
    """The store's report figures per shop-local day, their totals and object counts.

    Returns:
        ``{"shop", "now", "history_start", "counts", "totals", "days", "missing_costs", "orders"}``;
        ``days`` maps ``YYYY-MM-DD`` (shop-local) to ``orders`` (int) and the money figures
        (strings); ``missing_costs`` maps each variant GID sold without a cost to its
        ``units`` ordered and ``net_sales`` (less its returns); ``orders`` maps each non-test
        order's name to what its shipping and handling costs depend on (`order_facts`).
    """
    local_day = _day_function(store.shop.iana_timezone)
    variants = {v.id: v for p in store.products for v in p.variants}
    third_party_percent = THIRD_PARTY_FEE_PERCENT[store.shop.plan]
    days: dict[str, dict[str, Any]] = defaultdict(_empty_day)
    # Variants sold without a cost: units ordered and net sales (less their returns).
    missing: dict[int, list[Any]] = defaultdict(lambda: [0, Decimal(0)])
    facts: dict[str, dict[str, Any]] = {}

    for order in store.orders:
        if order.test:
            continue
        facts[order.name] = order_facts(order, local_day(order.processed_at))
        day = days[local_day(order.processed_at)]
        day["orders"] += 1
        lines = {li.id: li for li in order.line_items}
        # Each line costs what its variant cost when the order was processed.
        costs = {li.id: _cost_at(variants.get(li.variant_id), order.processed_at) for li in order.line_items}
        for li in order.line_items:
            if li.is_gift_card:
                continue
            day["gross_sales"] += li.unit_price * li.quantity
            day["discounts"] += li.discount
            day["taxes"] += li.tax
            cost = costs[li.id]
            net = li.unit_price * li.quantity - li.discount
            if cost is not None:
                day["cogs"] += cost * li.quantity
                day["net_sales_with_cost_recorded"] += net
            else:
                missing[li.variant_id][0] += li.quantity
                missing[li.variant_id][1] += net
        for sl in order.shipping_lines:
            day["shipping_charged"] += sl.price - sl.discount
            day["taxes"] += sl.tax
        for refund in order.refunds:
            rday = days[local_day(refund.processed_at)]
            rday["shipping_charged"] -= refund.shipping_subtotal
            rday["taxes"] -= refund.shipping_tax
            for rli in refund.line_items:
                li = lines[rli.line_item_id]
                if li.is_gift_card:
                    continue
                rday["returns"] += rli.subtotal
                rday["taxes"] -= rli.tax
                cost = costs[li.id]
                if cost is None:
                    missing[li.variant_id][1] -= rli.subtotal
                else:
                    rday["net_sales_with_cost_recorded"] -= rli.subtotal
                if rli.restock_type in RESTOCKED and cost is not None:
                    rday["cogs"] -= cost * rli.quantity
        for txn in order.transactions:
            if txn.status == "SUCCESS" and txn.kind in FEE_KINDS:
                txn_day = days[local_day(txn.processed_at)]
                txn_day["transaction_fees"] += txn.fee
                if txn.gateway not in THIRD_PARTY_FEE_EXEMPT:
                    fee = txn.amount * third_party_percent / 100
                    txn_day["third_party_transaction_fees"] += fee.quantize(CENT, ROUND_HALF_UP)

    for payout in store.payouts:
        days[local_day(payout.issued_at)]["payouts"] += payout.net

    totals = _empty_day()
    rendered: dict[str, dict[str, Any]] = {}
    for key in sorted(days):
        day = days[key]
        day["net_sales"] = day["gross_sales"] - day["discounts"] - day["returns"]
        day["total_sales"] = day["net_sales"] + day["shipping_charged"] + day["taxes"]
        for name, value in day.items():
            totals[name] += value
        rendered[key] = _render(day)
    return {
        "shop": {
            "name": store.shop.name,
            "myshopify_domain": f"{store.shop.handle}.myshopify.com",
            "currency": store.shop.currency,
            "iana_timezone": store.shop.iana_timezone,
            "plan": store.shop.plan,
            "shopify_payments": store.shop.payments,
        },
        "now": _iso(store.now),
        "history_start": _iso(store.history_start),
        "counts": count_objects(store),
        "totals": _render(totals),
        "days": rendered,
        "missing_costs": {
            f"gid://shopify/ProductVariant/{variant_id}": {"units": units, "net_sales": str(net.quantize(CENT))}
            for variant_id, (units, net) in sorted(missing.items())
        },
        "orders": facts,
    }


def order_facts(order: Order, day: str) -> dict[str, Any]:
    """What an order's shipping estimate and handling depend on: its shop-local ``day``,
    shipping ``country``, non-gift-card ``units``, of them ``shippable_units`` (requiring
    shipping), and ``cancelled_unfulfilled`` (cancelled without a fulfillment)."""
    goods = [li for li in order.line_items if not li.is_gift_card]
    return {
        "day": day,
        "country": order.shipping_country,
        "units": sum(li.quantity for li in goods),
        "shippable_units": sum(li.quantity for li in goods if li.requires_shipping),
        "cancelled_unfulfilled": order.cancelled_at is not None and not order.fulfillments,
    }


def count_objects(store: Store) -> dict[str, int]:
    """Number of objects of each type in the store (test orders included in ``orders``)."""
    orders = store.orders
    return {
        "orders": len(orders),
        "test_orders": sum(1 for o in orders if o.test),
        "cancelled_orders": sum(1 for o in orders if o.cancelled_at is not None),
        "line_items": sum(len(o.line_items) for o in orders),
        "shipping_lines": sum(len(o.shipping_lines) for o in orders),
        "refunds": sum(len(o.refunds) for o in orders),
        "refund_line_items": sum(len(r.line_items) for o in orders for r in o.refunds),
        "transactions": sum(len(o.transactions) for o in orders),
        "fulfillments": sum(len(o.fulfillments) for o in orders),
        "products": len(store.products),
        "variants": sum(len(p.variants) for p in store.products),
        "customers": len(store.customers),
        "payouts": len(store.payouts),
        "balance_transactions": len(store.balance_transactions),
    }


def _cost_at(variant: Variant | None, moment: datetime) -> Decimal | None:
    """The variant's unit cost at ``moment`` (none for an unknown variant or one without a cost)."""
    return None if variant is None else variant.cost_at(moment)


def _empty_day() -> dict[str, Any]:
    day: dict[str, Any] = {"orders": 0}
    day.update((name, Decimal(0)) for name in MONEY_FIGURES)
    return day


def _render(day: dict[str, Any]) -> dict[str, Any]:
    return {name: value if name == "orders" else str(value.quantize(CENT)) for name, value in day.items()}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _day_function(iana_timezone: str) -> Callable[[datetime], str]:
    """A fast UTC-moment to shop-local date string function (offsets cached per UTC hour)."""
    zone = ZoneInfo(iana_timezone)
    offsets: dict[datetime, timedelta] = {}

    def local_day(moment: datetime) -> str:
        hour = moment.replace(minute=0, second=0, microsecond=0)
        offset = offsets.get(hour)
        if offset is None:
            offset = offsets[hour] = hour.astimezone(zone).utcoffset() or timedelta(0)
        return (moment + offset).strftime("%Y-%m-%d")

    return local_day
