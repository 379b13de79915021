"""Helpers that turn Shopify's GraphQL shapes into raw-table columns."""

from __future__ import annotations

import hashlib
import typing as t
from decimal import Decimal

Node = t.Mapping[str, t.Any]


def dig(node: Node | None, *path: str) -> t.Any:
    """The value at ``path`` in nested dicts, or None where a step is missing."""
    value: t.Any = node
    for key in path:
        if not isinstance(value, t.Mapping):
            return None
        value = value.get(key)
    return value


def shop_amount(bag: Node | None) -> str | None:
    """The shop-money amount of a ``MoneyBag`` as a decimal string."""
    return dig(bag, "shopMoney", "amount")


def presentment_amount(bag: Node | None) -> str | None:
    """The presentment-money amount of a ``MoneyBag`` as a decimal string."""
    return dig(bag, "presentmentMoney", "amount")


def money_pair(name: str, bag: Node | None) -> dict[str, str | None]:
    """``{name: shop amount, name_presentment: presentment amount}``."""
    return {name: shop_amount(bag), f"{name}_presentment": presentment_amount(bag)}


def decimal_sum(amounts: t.Iterable[str | None]) -> str:
    """The exact sum of decimal strings, as a decimal string."""
    return str(sum((Decimal(a) for a in amounts if a is not None), Decimal("0")))


def bag_sum(name: str, bags: t.Iterable[Node | None]) -> dict[str, str]:
    """Like :func:`money_pair` for the sum of several ``MoneyBag`` values."""
    bags = list(bags)
    return {
        name: decimal_sum(shop_amount(b) for b in bags),
        f"{name}_presentment": decimal_sum(presentment_amount(b) for b in bags),
    }


def nodes(connection: Node | None) -> list[Node]:
    """The nodes of a connection (``{nodes: [...]}``) or of a plain list."""
    if connection is None:
        return []
    if isinstance(connection, list):
        return connection
    return list(connection.get("nodes") or [])


def sha256(value: str | None) -> str | None:
    """SHA-256 hex digest of a trimmed, lower-cased personal value (None stays None)."""
    if value is None or not str(value).strip():
        return None
    return hashlib.sha256(str(value).strip().lower().encode()).hexdigest()


def protect(value: str | None, mode: str) -> str | None:
    """Apply the ``pii`` setting to one personal value."""
    if mode == "keep":
        return value
    if mode == "hash":
        return sha256(value)
    return None


def legacy_gid(kind: str, number: t.Any) -> str | None:
    """A GID for a numeric id Shopify returns without one (e.g. ``sourceOrderTransactionId``)."""
    return None if number in (None, "") else f"gid://shopify/{kind}/{number}"
