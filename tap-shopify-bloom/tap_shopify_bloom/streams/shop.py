"""The shop itself: currency, time zone and plan."""

from __future__ import annotations

import typing as t
from datetime import UTC, datetime

from typing_extensions import override

from tap_shopify_bloom.client import ShopifyStream
from tap_shopify_bloom.records import Node, dig
from tap_shopify_bloom.windows import iso


class ShopStream(ShopifyStream):
    """One record per store (full table)."""

    name = "shop"
    primary_keys = ("shop",)
    replication_key = None
    connection_path = ("shop",)
    is_connection = False

    @override
    def to_row(self, node: Node) -> dict[str, t.Any]:
        return {
            "id": node["id"],
            "name": node.get("name"),
            "myshopify_domain": node.get("myshopifyDomain"),
            "currency": node.get("currencyCode"),
            "iana_timezone": node.get("ianaTimezone"),
            "plan": dig(node, "plan", "publicDisplayName"),
            "synced_at": iso(datetime.now(UTC)),
        }
