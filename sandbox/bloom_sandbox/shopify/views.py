"""Shopify objects the store model does not keep as objects of their own, and their type names."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bloom_sandbox.shopify.ids import gid
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

CENT = Decimal("0.01")
ZERO = Decimal("0")


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
