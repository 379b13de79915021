"""tap-shipping: shipping label costs from ShipStation (API v1) and Shippo."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import click
from singer_sdk import Stream, Tap
from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError
from typing_extensions import override

from tap_shipping.client import (
    DEFAULT_INITIAL_WINDOW_DAYS,
    DEFAULT_LOOKBACK_DAYS,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_RETRY_SECONDS,
    ShippingStream,
)
from tap_shipping.personal import DEFAULT_PII, PII_MODES
from tap_shipping.settings import DEFAULT_URLS
from tap_shipping.streams import build_streams
from tap_shipping.timezones import parse_iso


class TapShipping(Tap):
    """Singer tap for ShipStation shipments, Shippo transactions and refunds, and normalized labels."""

    name = "tap-shipping"
    message_writer_class = MsgSpecWriter

    config_jsonschema = th.PropertiesList(
        th.Property(
            "shipstation_api_key",
            th.StringType,
            secret=True,
            title="ShipStation API key",
            description="API key of the ShipStation account (Settings > Account > API Settings). "
            "ShipStation streams exist only when key and secret are set.",
        ),
        th.Property(
            "shipstation_api_secret",
            th.StringType,
            secret=True,
            title="ShipStation API secret",
            description="API secret belonging to the ShipStation API key.",
        ),
        th.Property(
            "shipstation_account_id",
            th.StringType,
            title="ShipStation account id",
            description="Name of the ShipStation account, stored in every record and keying its "
            "bookmarks. Default: derived from the API key (not the key itself).",
        ),
        th.Property(
            "shipstation_api_url",
            th.StringType,
            default=DEFAULT_URLS["shipstation"],
            title="ShipStation API base URL",
            description="https only, except loopback hosts (the sandbox: http://127.0.0.1:<port>/shipstation).",
        ),
        th.Property(
            "shipstation_currency",
            th.StringType,
            default="USD",
            title="ShipStation account currency",
            description="ISO 4217 currency of the ShipStation account's label costs (not in the API).",
        ),
        th.Property(
            "shippo_api_token",
            th.StringType,
            secret=True,
            title="Shippo API token",
            description="shippo_live_... or shippo_test_... token. Shippo streams exist only when it is set.",
        ),
        th.Property(
            "shippo_account_id",
            th.StringType,
            title="Shippo account id",
            description="Name of the Shippo account, stored in every record and keying its bookmarks. "
            "Default: derived from the token (not the token itself).",
        ),
        th.Property(
            "shippo_api_url",
            th.StringType,
            default=DEFAULT_URLS["shippo"],
            title="Shippo API base URL",
            description="https only, except loopback hosts (the sandbox: http://127.0.0.1:<port>/shippo).",
        ),
        th.Property(
            "shippo_requests_per_minute",
            th.NumberType(exclusive_minimum=0),
            title="Shippo requests per minute",
            description="Pace of Shippo requests. Default: Shippo's documented limit for listing "
            "(10 per minute with a test token, 50 with a live token).",
        ),
        th.Property(
            "shippo_burst",
            th.IntegerType(minimum=1),
            title="Shippo burst",
            description="Shippo list requests sent at once before the pace applies. Default (and most): "
            "a minute's worth (shippo_requests_per_minute), so a short run does not wait; 1 spaces "
            "every request evenly (e.g. when another client shares the token).",
        ),
        th.Property(
            "start_date",
            th.DateTimeType,
            title="Start date",
            description="Read labels created from this time on (ISO-8601). Default: all history.",
        ),
        th.Property(
            "lookback_days",
            th.IntegerType(minimum=0, maximum=365),
            default=DEFAULT_LOOKBACK_DAYS,
            title="Trailing window (days)",
            description="Each run re-reads labels created this many days before the bookmark, "
            "to pick up voids and refunds that happen after purchase.",
        ),
        th.Property(
            "initial_window_days",
            th.IntegerType(minimum=1, maximum=365),
            default=DEFAULT_INITIAL_WINDOW_DAYS,
            title="First-sync recent window (days)",
            description="A first sync with backfill false reads labels created in this many recent days only.",
        ),
        th.Property(
            "backfill",
            th.BooleanType,
            default=True,
            title="Backfill",
            description="Read the history back to start_date. With false a run reads only the "
            "live window: on a first sync the labels of the last initial_window_days "
            "(reports of the last days appear in seconds, not after minutes of "
            "Shippo's rate limit), later the trailing window. The history is recorded "
            "in each account's state as pending (history.start, history.end); the "
            "next run with true (the default) reads it in the same pass as its "
            "trailing window, with no gap at the seam and no label emitted twice.",
        ),
        th.Property(
            "pii",
            th.StringType,
            default=DEFAULT_PII,
            allowed_values=list(PII_MODES),
            title="Personal data",
            description="What to do with personal fields: ShipStation's customerEmail and shipTo name, "
            "company, street1-3, phone, city and postalCode; Shippo's object_owner and "
            "created_by: `keep`, `hash` (SHA-256 of the trimmed, lower-cased value, as "
            "tap-shopify-bloom's) or `drop` (null). With hash or drop, extra_fields keeps "
            "new fields' names but not their values.",
        ),
        th.Property(
            "retry_initial_seconds",
            th.NumberType(minimum=0),
            default=DEFAULT_RETRY_SECONDS,
            title="First retry wait (seconds)",
            description="Wait before retrying a 5xx or broken connection; doubles on each of the "
            "4 retries. A 429 waits as long as the API asks instead.",
        ),
        th.Property(
            "request_timeout",
            th.NumberType(exclusive_minimum=0),
            default=DEFAULT_REQUEST_TIMEOUT,
            title="Request timeout (seconds)",
            description="How long one request may go without an answer; then it is retried like "
            "a 5xx (same waits and tries). More than 0.",
        ),
    ).to_dict()

    @override
    def discover_streams(self) -> list[Stream]:
        return build_streams(self)

    @override
    def load_state(self, state: dict[str, Any]) -> None:
        """Every bookmark of the given state is a time, so a damaged state stops the run with one line
        before any message, not with the SDK's stack trace halfway (the SDK's hook for checking a state)."""
        for name, bookmark in (state.get("bookmarks") or {}).items():
            for entry in [bookmark, *(bookmark.get("partitions") or [])] if isinstance(bookmark, dict) else []:
                value = entry.get("replication_key_value") if isinstance(entry, dict) else None
                try:
                    if value is not None:
                        parse_iso(value)
                except (ValueError, TypeError, AttributeError):
                    where = entry.get("context") or {}
                    msg = (
                        f"the state's bookmark of {name} {where} is {value!r}, not an ISO-8601 time; remove "
                        "that bookmark from the state (the stream then reads from start_date again), or run "
                        "with the state the last run wrote"
                    )
                    raise FatalAPIError(msg) from None
        super().load_state(state)

    # The SDK has no hook between reading the settings and the first message (it marks sync_all
    # final): the credential probe below must come before any SCHEMA line, or the loader creates
    # tables for a run that cannot read anything.
    @override
    def sync_all(self) -> None:
        self._check_credentials()
        super().sync_all()

    def _check_credentials(self) -> None:
        """One request per account before any message, so a refused credential or a wrong URL
        stops the run before a table exists: a list of what was created from now on (empty)."""
        now = datetime.now(UTC).isoformat()
        streams = sorted((s for s in self.streams.values() if isinstance(s, ShippingStream)), key=lambda s: s.selected)
        probes = {stream.account: stream for stream in streams}  # a selected stream of the account if any
        for stream in probes.values():
            next(iter(stream.request_records({"account_id": stream.account.account_id, "since": now})), None)

    # The command line: a wrong setting or a refused credential is one line naming the setting
    # and the fix, never a stack trace. The SDK does so only for settings checked as a sync
    # starts; these hooks extend it to --discover, --test and the providers' fatal answers.

    @classmethod
    def _explained(cls, ctx: click.Context, run: Callable[[], None]) -> None:
        try:
            run()
        except ConfigValidationError as exc:
            for error in exc.errors or [str(exc)]:
                cls.logger.error("%s", _readable(error))
            cls.logger.error("Config validation failed")
            ctx.exit(1)
        except FatalAPIError as exc:
            cls.logger.error("%s", exc)
            ctx.exit(1)

    @classmethod
    @override
    def invoke(cls, **kwargs: Any) -> None:  # type: ignore[override]
        cls._explained(click.get_current_context(), lambda: super(TapShipping, cls).invoke(**kwargs))

    @classmethod
    @override
    def cb_discover(cls, ctx: click.Context, param: click.Option, value: bool) -> None:
        cls._explained(ctx, lambda: super(TapShipping, cls).cb_discover(ctx, param, value))

    @classmethod
    @override
    def cb_test(cls, ctx: click.Context, param: click.Option, value: str) -> None:
        cls._explained(ctx, lambda: super(TapShipping, cls).cb_test(ctx, param, value))


def _readable(error: str) -> str:
    """A JSON-schema error of the settings, turned around to start with the setting and end with the fix."""
    if match := re.fullmatch(r"(.*) in config\['(\w+)'\]", error):
        return f"{match[2]}: {match[1]}; change {match[2]} (tap-shipping --about describes every setting)"
    if match := re.fullmatch(r"'(\w+)' is a required property", error):
        return f"{match[1]} is required: set it (tap-shipping --about describes every setting)"
    return error


if __name__ == "__main__":
    TapShipping.cli()
