"""The Shopify tap: settings and streams."""

from __future__ import annotations

import typing as t

from singer_sdk import Stream, Tap
from singer_sdk.contrib.msgspec import MsgSpecWriter
from typing_extensions import override

from tap_shopify_bloom.settings import CONFIG_SCHEMA, parse_settings
from tap_shopify_bloom.streams import STREAM_TYPES
from tap_shopify_bloom.throttle import CostBucket


class TapShopifyBloom(Tap):
    """Singer tap for the Shopify Admin GraphQL API."""

    name = "tap-shopify-bloom"
    config_jsonschema = CONFIG_SCHEMA
    message_writer_class = MsgSpecWriter

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Check the settings beyond their schema before anything runs."""
        self.bucket = CostBucket()
        super().__init__(*args, **kwargs)
        if kwargs.get("validate_config", True):
            parse_settings(self.config)

    @override
    def discover_streams(self) -> list[Stream]:
        return [stream_type(tap=self) for stream_type in STREAM_TYPES]

    @override
    def load_streams(self) -> list[Stream]:
        # Keep the registry's order (orders and transactions before the rest), not by name.
        return self.discover_streams()


if __name__ == "__main__":
    TapShopifyBloom.cli()
