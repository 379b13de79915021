"""The tap's streams, partitioned by ad account.

Per platform, the objects a report joins on: ``<platform>_ad_accounts`` and
``<platform>_campaigns`` (``meta``, ``google_ads``, ``tiktok``), each with its schema in
``schemas/``. Across platforms, one normalized ``ad_spend_daily``. A platform's streams
exist only when its settings are given (see
:func:`tap_adplatforms.settings.configured_platforms`), and ``ad_spend_daily`` only when
at least one platform is; every read goes through the platform's source in :data:`SOURCES`.
Each partition is ``{"platform", "account_id"}``, so state is kept per account.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk import SchemaDirectory, Stream, StreamSchema
from singer_sdk.metrics import Counter
from typing_extensions import override

from tap_adplatforms import schemas, settings, windows
from tap_adplatforms.client import PlatformSource, setting
from tap_adplatforms.googleads_streams import GoogleAdsSource
from tap_adplatforms.meta_streams import MetaSource
from tap_adplatforms.tiktok_streams import TikTokSource

if TYPE_CHECKING:
    from singer_sdk import Tap

SOURCES: dict[str, type[PlatformSource]] = {"meta": MetaSource, "google_ads": GoogleAdsSource, "tiktok": TikTokSource}


#: How often the SDK's ``record_count`` metric is logged while a stream syncs (the README's
#: "History progress line": runners show records per second from it).
RECORD_COUNT_SECONDS = 10.0


class AdPlatformsStream(Stream):
    """Base of the public streams: partitions over the configured accounts."""

    schema = StreamSchema(SchemaDirectory(schemas))

    def __init__(self, tap: Tap, sources: dict[str, PlatformSource], name: str | None = None) -> None:
        super().__init__(tap, name=name)
        self.sources = sources

    @override
    def get_record_counter(self, *, endpoint: str | None = None, log_interval: float = RECORD_COUNT_SECONDS) -> Counter:
        """The SDK's record counter, logged every ``RECORD_COUNT_SECONDS`` (not 60 s): a runner's progress reads it."""
        return super().get_record_counter(endpoint=endpoint, log_interval=log_interval)

    @property
    @override
    def partitions(self) -> list[dict[str, Any]]:
        return [
            {"platform": platform, "account_id": account_id}
            for platform in self.sources
            for account_id in settings.account_ids(self.config, platform)
        ]

    def source(self, context: dict[str, Any] | None) -> tuple[PlatformSource, str]:
        """The partition's source and account id."""
        if not context:
            msg = f"{self.name} is read per account: it needs a platform/account_id context"
            raise ValueError(msg)
        return self.sources[context["platform"]], context["account_id"]


class PlatformStream(AdPlatformsStream):
    """A stream of one platform's objects, named ``<platform>_<kind>``."""

    kind: ClassVar[str]

    def __init__(self, tap: Tap, source: PlatformSource) -> None:
        super().__init__(tap, {source.platform: source}, name=f"{source.platform}_{self.kind}")


class AdAccountsStream(PlatformStream):
    """One row per configured ad account of one platform: name, currency, time zone, status."""

    kind = "ad_accounts"
    primary_keys = ("account_id",)

    @override
    def get_records(self, context: dict[str, Any] | None) -> Iterable[dict[str, Any]]:
        source, account_id = self.source(context)
        yield source.account(account_id)


class CampaignsStream(PlatformStream):
    """One row per campaign of each configured account of one platform."""

    kind = "campaigns"
    primary_keys = ("account_id", "campaign_id")

    @override
    def get_records(self, context: dict[str, Any] | None) -> Iterable[dict[str, Any]]:
        source, account_id = self.source(context)
        yield from source.campaigns(account_id)


class AdSpendDailyStream(AdPlatformsStream):
    """Spend and results per campaign per day of the account, re-reading a trailing window."""

    name = "ad_spend_daily"
    primary_keys = ("platform", "account_id", "campaign_id", "date")
    replication_key = "date"
    is_sorted = False  # recent days come first, then history by month
    STATE_MSG_FREQUENCY = 200  # so that history progress reaches the state often

    announced = False  # whether this run has logged every account's history line yet

    def announce_history(self) -> None:
        """Log the ``HISTORY:`` line of every account's history owed in state, before the first account
        syncs, so that a runner knows the whole of it from the start (months counted from start_date:
        each account's own line corrects them for an API that keeps fewer months)."""
        start = date.fromisoformat(str(self.config["start_date"])[:10])
        for partition in self.partitions or []:
            history = self.get_context_state(partition).get("history")
            if history:
                source, account_id = self.source(partition)
                self.logger.info("%s", windows.history_line(self.name, source.platform, account_id, start, history))

    @override
    def get_records(self, context: dict[str, Any] | None) -> Iterable[dict[str, Any]]:
        if not self.announced:
            self.announced = True
            self.announce_history()
        source, account_id = self.source(context)
        account = source.account(account_id)
        today = source.today(account)
        start = date.fromisoformat(str(self.config["start_date"])[:10])
        floor = source.oldest_day(today)
        if floor and start < floor:
            self.logger.warning(
                "%s: the API keeps daily figures for %d months only; reading from %s instead of start_date",
                settings.account_label(source.platform, account_id),
                source.history_months,
                floor,
            )
            start = floor
        state = self.get_context_state(context)
        bookmark = state.get("replication_key_value")
        backfill = bool(setting(self.config, "backfill"))
        plan = windows.plan(
            start=start,
            today=today,
            bookmark=date.fromisoformat(bookmark) if bookmark else None,
            history=state.get("history"),
            lookback_days=source.lookback_days,
            initial_days=int(setting(self.config, "initial_window_days")),
            backfill=backfill,
        )
        state["history"] = plan.history
        self.logger.info("%s", windows.history_line(self.name, source.platform, account_id, start, plan.history))
        if not backfill and plan.history.get("next"):
            self.logger.info(
                "%s: history %s..%s left pending (backfill is false)",
                settings.account_label(source.platform, account_id),
                plan.history["next"],
                plan.history["until"],
            )
        for window in plan.windows:
            self.logger.info(
                "%s: reading %s..%s%s",
                settings.account_label(source.platform, account_id),
                window.since,
                window.until,
                " (history)" if window.history else "",
            )
            yield from source.spend(account_id, window)
            if window.history:
                windows.advance_history(state["history"], window)
                line = windows.history_line(self.name, source.platform, account_id, start, state["history"])
                self.logger.info("%s", line)


PLATFORM_STREAM_TYPES: tuple[type[PlatformStream], ...] = (AdAccountsStream, CampaignsStream)


def configured_streams(tap: Tap) -> list[AdPlatformsStream]:
    """The streams of the configured platforms: each one's accounts and campaigns, and ``ad_spend_daily``.

    One source per platform serves all its streams, so an account is read once per run.
    """
    sources = {platform: SOURCES[platform](tap) for platform in settings.configured_platforms(tap.config)}
    streams: list[AdPlatformsStream] = [
        stream_type(tap, source) for source in sources.values() for stream_type in PLATFORM_STREAM_TYPES
    ]
    if sources:
        streams.append(AdSpendDailyStream(tap, sources))
    return streams
