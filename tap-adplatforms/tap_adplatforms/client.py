"""The base of every request the tap makes, and of each platform's source.

A platform *source* (Meta, Google Ads, TikTok) turns one account's API into the tap's
normalized records; it reads through *readers*, small REST streams bound to one account
and one endpoint, so paging, authentication, retries and error classification go through
the SDK's hooks. The public streams in :mod:`tap_adplatforms.streams` only partition by
account, plan windows and keep state.
"""

from __future__ import annotations

import abc
import logging
import time
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import requests
from singer_sdk import RESTStream
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from typing_extensions import override

from tap_adplatforms import settings
from tap_adplatforms.windows import Window, months_before

if TYPE_CHECKING:
    from collections.abc import Generator

    from singer_sdk import Tap

READER_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}
CENT = Decimal("0.01")


def setting(config: Mapping[str, Any], name: str) -> Any:
    """A setting's value, or its default from the settings schema."""
    value = config.get(name)
    if value is None:
        return settings.CONFIG_SCHEMA["properties"][name].get("default")
    return value


def money(value: Decimal | str | int | None) -> str:
    """A decimal string with at least two decimals and no rounding."""
    amount = Decimal(str(value if value is not None else "0"))
    return str(amount.quantize(CENT)) if amount == amount.quantize(CENT) else str(amount.normalize())


class RateLimitedError(RetriableAPIError):
    """A platform asked the tap to slow down; ``wait_seconds`` is its hint."""

    def __init__(self, message: str, response: requests.Response | None, wait_seconds: float) -> None:
        super().__init__(message, response)
        self.wait_seconds = wait_seconds


class AccountReader(RESTStream[Any]):
    """A REST stream bound to one account of one platform; never emitted itself."""

    platform: ClassVar[str]
    url_setting: ClassVar[str]

    def __init__(self, tap: Tap, *, account_id: str, endpoint: str) -> None:
        super().__init__(tap, name=f"{self.platform}_{endpoint}", schema=dict(READER_SCHEMA))
        self.account_id = account_id

    def problem(self, what: str, fix: str) -> str:
        """A message naming the platform, the account, what went wrong and what to do."""
        label = settings.account_label(self.platform, self.account_id)
        return f"{label}: {what.rstrip('.')}. What to do: {fix}."

    @property
    def max_wait(self) -> float:
        """The longest single wait for a rate limit (the rate_limit_max_wait_seconds setting)."""
        return float(setting(self.config, "rate_limit_max_wait_seconds"))

    def pause(self, seconds: float, reason: str) -> None:
        """Sleep for a platform's limit, at most ``max_wait`` seconds, and say why."""
        wait = min(max(seconds, 0.0), self.max_wait)
        self.logger.warning("%s; waiting %.1f s", reason, wait)
        time.sleep(wait)

    @property
    @override
    def url_base(self) -> str:
        return str(setting(self.config, self.url_setting)).rstrip("/")

    @override
    def response_error_message(self, response: requests.Response) -> str:
        """Status and path only: query strings and headers may carry tokens."""
        return self.problem(
            f"HTTP {response.status_code} {response.reason} for {urlparse(response.url).path}",
            "retry later; if it persists, check the platform's status page",
        )

    @override
    def backoff_wait_generator(self) -> Generator[float, None, None]:
        return self.backoff_runtime(value=self._retry_wait)

    def _retry_wait(self, exc: Exception) -> float:
        hint = exc.wait_seconds if isinstance(exc, RateLimitedError) else 2.0
        return min(hint, self.max_wait)

    @override
    def backoff_jitter(self, value: float) -> float:
        return value

    @override
    def backoff_max_tries(self) -> int:
        return int(setting(self.config, "request_max_tries"))

    @override
    def backoff_handler(self, details: Any) -> None:
        exc = details.get("exception")
        self.log("%s (try %d); retrying in %.1f s", exc, details.get("tries", 0), details.get("wait", 0.0),
                 level=logging.WARNING)

    def rows(self, context: dict[str, Any]) -> Iterable[dict[str, Any]]:
        """The endpoint's raw rows for ``context`` (all pages)."""
        yield from self.request_records(context)

    def fatal(self, what: str, fix: str) -> FatalAPIError:
        """A fatal error with a message naming platform, account and fix."""
        return FatalAPIError(self.problem(what, fix))


class PlatformSource(abc.ABC):
    """One platform's accounts, campaigns and daily spend, normalized."""

    platform: ClassVar[str]
    max_window_days: ClassVar[int | None] = None  # the API's limit on days per call
    history_months: ClassVar[int | None] = None  # how far back the API keeps daily figures
    attribution_setting: ClassVar[str | None] = None

    def __init__(self, tap: Tap) -> None:
        self.tap = tap
        self._readers: dict[tuple[str, str], AccountReader] = {}
        self._accounts: dict[str, dict[str, Any]] = {}

    @property
    def config(self) -> Mapping[str, Any]:
        """The tap's settings."""
        return self.tap.config

    def reader(self, kind: type[AccountReader], account_id: str, endpoint: str) -> AccountReader:
        """The reader of ``endpoint`` for one account (created once per run)."""
        key = (endpoint, account_id)
        if key not in self._readers:
            self._readers[key] = self.make_reader(kind, account_id, endpoint)
        return self._readers[key]

    def make_reader(self, kind: type[AccountReader], account_id: str, endpoint: str) -> AccountReader:
        """Create a reader; sources override this to share an authenticator."""
        return kind(self.tap, account_id=account_id, endpoint=endpoint)

    @property
    def lookback_days(self) -> int:
        """The trailing window re-read on every run."""
        return int(setting(self.config, f"{self.platform}_lookback_days"))

    def account(self, account_id: str) -> dict[str, Any]:
        """The account's ``ad_accounts`` record (read once per run)."""
        if account_id not in self._accounts:
            self._accounts[account_id] = self.read_account(account_id)
        return self._accounts[account_id]

    def today(self, account: Mapping[str, Any]) -> date:
        """The account's current day, or the end_date setting."""
        if self.config.get("end_date"):
            return date.fromisoformat(str(self.config["end_date"])[:10])
        return datetime.now(ZoneInfo(account["timezone"])).date()

    def oldest_day(self, today: date) -> date | None:
        """The oldest day the API still reports by day, if it has such a limit."""
        if not self.history_months:
            return None
        return months_before(today, self.history_months) + timedelta(days=1)

    def spend(self, account_id: str, window: Window) -> Iterable[dict[str, Any]]:
        """``ad_spend_daily`` records of one window, cut to the API's limit per call."""
        account = self.account(account_id)
        for part in window.split(self.max_window_days):
            for row in self.read_spend(account_id, part):
                yield {
                    "platform": self.platform,
                    "account_id": account_id,
                    "currency": account["currency"],
                    "account_timezone": account["timezone"],
                    "attribution_setting": self.attribution_setting,
                    **row,
                }

    @abc.abstractmethod
    def read_account(self, account_id: str) -> dict[str, Any]:
        """Read one ``ad_accounts`` record."""

    @abc.abstractmethod
    def campaigns(self, account_id: str) -> Iterable[dict[str, Any]]:
        """The account's ``campaigns`` records."""

    @abc.abstractmethod
    def read_spend(self, account_id: str, window: Window) -> Iterable[dict[str, Any]]:
        """Per campaign and day: campaign_id, campaign_name, date, spend and results."""
