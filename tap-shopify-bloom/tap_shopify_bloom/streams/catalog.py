"""Products with their variants and unit costs."""

from __future__ import annotations

import typing as t

from typing_extensions import override

from tap_shopify_bloom.incremental import BulkWindowedStream
from tap_shopify_bloom.records import Node, dig, nodes


def variant_row(variant: Node) -> dict[str, t.Any]:
    """One element of ``products.variants``."""
    return {
        "id": variant["id"],
        "title": variant.get("title"),
        "position": variant.get("position"),
        "sku": variant.get("sku"),
        "price": variant.get("price"),
        "compare_at_price": variant.get("compareAtPrice"),
        "unit_cost": dig(variant, "inventoryItem", "unitCost", "amount"),
        "unit_cost_currency": dig(variant, "inventoryItem", "unitCost", "currencyCode"),
        "inventory_item_id": dig(variant, "inventoryItem", "id"),
        "created_at": variant.get("createdAt"),
        "updated_at": variant.get("updatedAt"),
    }


def by_position(variants: list[Node]) -> list[Node]:
    """Variants in ``position`` order (the merchant's), as Shopify pages them; bulk lines come in any order."""
    return sorted(variants, key=lambda v: (v.get("position") is None, v.get("position") or 0))


def product_row(node: Node) -> dict[str, t.Any]:
    """The ``products`` row of a ``Product`` node."""
    return {
        "id": node["id"],
        "title": node.get("title"),
        "vendor": node.get("vendor"),
        "product_type": node.get("productType"),
        "status": node.get("status"),
        "is_gift_card": node.get("isGiftCard"),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "variants": [variant_row(v) for v in by_position(nodes(node.get("variants")))],
    }


class ProductsStream(BulkWindowedStream):
    """Every product on the first run, then those updated since; variants nested; large windows by bulk."""

    name = "products"
    primary_keys = ("shop", "id")
    replication_key = "updated_at"
    connection_path = ("products",)
    whole_first = True  # every product on the first run, in the live window: the first orders need their costs
    history_before_start_date = True  # for a products history left pending by an earlier version of the tap
    page_size = 50
    count_query = "products_count"
    required_scope = "read_products"
    bulk_children: t.ClassVar[dict[str, str]] = {"ProductVariant": "variants"}

    @override
    def completed(self, nodes: t.Iterable[Node]) -> t.Iterator[Node]:
        """Products with variants beyond the first nested page (``product_variants``)."""
        for node in nodes:
            self.complete_connection(t.cast("dict", node).get("variants") or {}, "product_variants", node["id"])
            yield node

    @override
    def to_row(self, node: Node) -> dict[str, t.Any]:
        return product_row(node)
