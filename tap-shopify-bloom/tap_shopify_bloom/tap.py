"""The Shopify tap: settings and streams."""

from __future__ import annotations

import logging
import sys
import typing as t
from contextlib import contextmanager

import click
from singer_sdk import Stream, Tap
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.exceptions import ConfigValidationError, SyncLifecycleSignal
from typing_extensions import override

from tap_shopify_bloom.errors import ActionableError
from tap_shopify_bloom.settings import CONFIG_SCHEMA, parse_settings, schema_refusal
from tap_shopify_bloom.streams import STREAM_TYPES
from tap_shopify_bloom.streams.shop import ShopStream
from tap_shopify_bloom.throttle import CostBucket


class QuietOnActionableErrors(logging.Filter):
    """Drops the SDK's "unhandled error while syncing" line where there is no error to report.

    That is while an :class:`ActionableError` (it explains itself in one line) or one of the
    SDK's own lifecycle signals (``--test`` stopping each stream after a record) unwinds.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every record but that one."""
        explained = isinstance(sys.exc_info()[1], ActionableError | SyncLifecycleSignal)
        return not (explained and str(record.msg).startswith("An unhandled error"))


QUIET = QuietOnActionableErrors()


@contextmanager
def one_line_errors(logger: logging.Logger) -> t.Iterator[None]:
    """Print an :class:`ActionableError` as its one line (no summary, no stack trace); exit 1."""
    try:
        yield
    except ActionableError as exc:
        logger.error("%s", exc.errors[0] if exc.errors else exc)  # no stack trace: the line says it all
        raise click.exceptions.Exit(1) from None


class TapShopifyBloom(Tap):
    """Singer tap for the Shopify Admin GraphQL API."""

    name = "tap-shopify-bloom"
    config_jsonschema = CONFIG_SCHEMA
    message_writer_class = MsgSpecWriter

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Check the settings, their schema and beyond, before anything runs.

        Raises:
            ActionableError: one line naming the first wrong setting and the fix.
        """
        self.bucket = CostBucket()
        self.payments_enabled: bool | None = None  # learnt by the first payments stream
        try:
            super().__init__(*args, **kwargs)
        except ConfigValidationError as exc:  # the SDK's schema check, in JSON schema's words
            raise schema_refusal(self.config, self.config_jsonschema) or exc from None
        if kwargs.get("validate_config", True):
            parse_settings(self.config)

    @override
    def discover_streams(self) -> list[Stream]:
        streams = [stream_type(tap=self) for stream_type in STREAM_TYPES]
        for stream in streams:
            stream.logger.addFilter(QUIET)  # once per logger
        return streams

    @classmethod
    @override
    def invoke(cls, *args: t.Any, **kwargs: t.Any) -> None:  # ty:ignore[invalid-method-override]
        with one_line_errors(cls.logger):
            super().invoke(*args, **kwargs)

    @classmethod
    @override
    def cb_discover(cls, ctx: click.Context, param: click.Option, value: bool) -> None:
        # The SDK discovers without checking the settings; check them first (offline: the
        # catalog is static), so a wrong setting fails here, before Meltano's run starts.
        if value:
            config = ctx.params.get("config")
            with one_line_errors(cls.logger):
                cls(
                    config=dict(getattr(config, "config", None) or {}),
                    parse_env_config=bool(getattr(config, "parse_env", False)),
                    setup_mapper=False,
                )
        super().cb_discover(ctx, param, value)

    @classmethod
    @override
    def cb_test(cls, *args: t.Any, **kwargs: t.Any) -> None:
        with one_line_errors(cls.logger):
            super().cb_test(*args, **kwargs)

    def check_access(self) -> None:
        """Read the shop once before the first message (its record is the shop stream's).

        Shopify's account-level refusals (401, 402, 403, 404, 423) then stop the run before
        a SCHEMA or STATE line exists, so no loader creates a table for a sync that failed.
        """
        shop = self.streams["shop"]
        if isinstance(shop, ShopStream):
            shop.read_ahead()  # an endpoint that never answers ends in one line there too

    # The SDK marks the two entry points final; they only gain the access check ahead.
    @override
    def sync_all(self) -> None:
        self.check_access()
        super().sync_all()

    @override
    def run_connection_test(self) -> bool:
        self.check_access()
        return super().run_connection_test()

    @override
    def load_streams(self) -> list[Stream]:
        # Keep the registry's order (orders and transactions before the rest), not by name.
        return self.discover_streams()


if __name__ == "__main__":
    TapShopifyBloom.cli()
