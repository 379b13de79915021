"""The shop itself: currency, time zone and plan."""

from __future__ import annotations

import typing as t
from datetime import UTC, datetime

from typing_extensions import override

from tap_shopify_bloom.client import ShopifyStream
from tap_shopify_bloom.incremental import WindowedStream
from tap_shopify_bloom.records import Node, dig
from tap_shopify_bloom.windows import iso

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class ShopStream(ShopifyStream):
    """One record per store (full table)."""

    name = "shop"
    primary_keys = ("shop",)
    replication_key = None
    connection_path = ("shop",)
    is_connection = False
    #: The shop read by :meth:`read_ahead`, served as this stream's record instead of a second query.
    read_early: Node | None = None

    def read_ahead(self) -> None:
        """Query the shop now (the tap's access check before any message)."""
        self.read_early = self.graphql("shop", {}).get("shop")

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        early, self.read_early = self.read_early, None
        yield from super().get_records(context) if early is None else [early]
        # On a first sync, every other stream's recent window (the products': the whole catalog,
        # for unit costs) comes before anyone's history, so that recent reports appear quickly
        # and complete: run those streams now, live window only.
        for stream in self.owner.streams.values():
            if isinstance(stream, WindowedStream) and stream.selected and stream.needs_first_sync():
                stream.live_only = True
                try:
                    stream.sync()
                finally:
                    stream.live_only = False
        # Then every stream says what history it owes, so that a runner knows the whole of it
        # from the start, not stream by stream as each begins.
        for stream in self.owner.streams.values():
            if isinstance(stream, WindowedStream) and stream.selected:
                stream.announce_history()

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
