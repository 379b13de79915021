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
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import wraps
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
    from singer_sdk.helpers.types import Context
    from singer_sdk.streams.rest import RequestFunc

READER_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}
CENT = Decimal("0.01")
MICRO = Decimal("0.000001")


def setting(config: Mapping[str, Any], name: str) -> Any:
    """A setting's value, or its default from the settings schema."""
    value = config.get(name)
    if value is None:
        return settings.CONFIG_SCHEMA["properties"][name].get("default")
    return value


def _sentence(text: str) -> str:
    """``text`` without the full stop at its end, also one just inside a closing parenthesis
    (an API's own message quoted last: ``(code 40105: ... revoked.)``)."""
    return re.sub(r"\.(\)*)$", r"\1", text.strip()).rstrip(".")


class BadRecordError(FatalAPIError):
    """An API sent a record the tap cannot read; the message names the stream, the account and the record."""


class FieldError(ValueError):
    """A field of a raw row is missing or of the wrong type; ``what`` says which and how."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


@dataclass(frozen=True)
class Field:
    """Where a raw row holds a value (a dotted path), how to convert it, whether it must be there."""

    path: str
    convert: Callable[[Any], Any] = str
    required: bool = False

    def read(self, row: Mapping[str, Any]) -> Any:
        """The converted value (see :func:`field`)."""
        return field(row, self.path, self.convert, required=self.required)


def dig(row: Any, path: str) -> Any:
    """The value at a dotted ``path`` of a raw row (``campaign.id``), or ``None``."""
    for part in path.split("."):
        row = row.get(part) if isinstance(row, Mapping) else None
    return row


def field(row: Mapping[str, Any], path: str, convert: Callable[[Any], Any] = str, *, required: bool = True) -> Any:
    """The value at ``path`` of a raw row, converted by ``convert`` (one of :func:`day`, :func:`count`,
    :func:`decimal`, :func:`money`, :func:`micros`, ``str``); a missing optional text is ``None``, a
    missing optional number ``convert(None)`` (0).

    Raises:
        FieldError: naming the field, if it is missing while ``required`` or ``convert`` refuses it.
    """
    value = dig(row, path)
    if value is None and required:
        raise FieldError(f"has no {path}")
    if value is None and convert is str:
        return None  # an absent text stays absent; absent numbers are 0
    if value is not None and isinstance(value, (Mapping, list, bool)):
        raise FieldError(f"has a {type(value).__name__} as {path}")
    try:
        return convert(value)
    except (ValueError, TypeError, ArithmeticError) as exc:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise FieldError(f"has {path} {shown}, which is not {_EXPECTED.get(convert, 'readable')}") from exc


def day(value: Any) -> str:
    """A day as ``YYYY-MM-DD`` from a ``YYYY-MM-DD`` or ``YYYY-MM-DD hh:mm:ss`` string."""
    if not isinstance(value, str):
        raise TypeError(value)
    return date.fromisoformat(value[:10]).isoformat()


def count(value: Any) -> int:
    """A whole number (an API's int64 may come as a string); absent counts as 0."""
    if value is None:
        return 0
    if isinstance(value, float) or (isinstance(value, str) and not value.strip().lstrip("-").isdigit()):
        raise ValueError(value)
    return int(value)


def decimal(value: Any) -> Decimal:
    """A finite decimal number; absent counts as 0."""
    number = Decimal(str(value if value is not None else 0))
    if not number.is_finite():
        raise InvalidOperation(value)
    return number


def money(value: Decimal | str | int | None) -> str:
    """A decimal string with at least two decimals and no rounding."""
    amount = decimal(value)
    return str(amount.quantize(CENT)) if amount == amount.quantize(CENT) else str(amount.normalize())


def micros(value: Any) -> str:
    """Millionths of a currency unit (Google's ``cost_micros``) as :func:`money`, exactly."""
    return money(count(value) * MICRO)


_EXPECTED: dict[Callable[[Any], Any], str] = {day: "a day written YYYY-MM-DD", count: "a whole number",
                                              decimal: "a number", money: "an amount of money",
                                              micros: "a whole number of micros"}


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
        return f"{label}: {_sentence(what)}. What to do: {_sentence(fix)}."

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

    @property
    @override
    def timeout(self) -> float:  # type: ignore[override]
        """The request_timeout setting: seconds without an answer before a request is retried."""
        return float(setting(self.config, "request_timeout"))

    @override
    def response_error_message(self, response: requests.Response) -> str:
        """Status and path only: query strings and headers may carry tokens."""
        return self.problem(
            f"HTTP {response.status_code} {response.reason} for {urlparse(response.url).path}",
            "retry later; if it persists, check the platform's status page",
        )

    @override
    def request_decorator(self, func: RequestFunc) -> RequestFunc:
        """The SDK's retries, then one message saying what kept failing and what to do."""
        retried = super().request_decorator(func)

        @wraps(func)
        def explained(prepared: requests.PreparedRequest, context: Context | None) -> requests.Response:
            try:
                return retried(prepared, context)
            except RetriableAPIError as exc:
                what = str(exc).split(". What to do: ", 1)[0]
                msg = (f"{what}; still failing after {self.backoff_max_tries()} tries, so the run stopped "
                       "(state keeps what was loaded). What to do: run again later; if it keeps failing, check "
                       "the platform's status page, or raise request_max_tries")
                raise FatalAPIError(msg) from None
            except requests.ReadTimeout:
                tries = self.backoff_max_tries()
                raise self.fatal(
                    f"no answer from {self.path} within request_timeout ({self.timeout:g} s), {tries} "
                    f"{'try' if tries == 1 else 'tries'} in a row, so the run stopped (state keeps what was loaded)",
                    "run again later; if the platform's answers are merely slow, raise request_timeout",
                ) from None
            except requests.RequestException as exc:
                tries = self.backoff_max_tries()
                raise self.fatal(
                    f"cannot reach {self.url_setting} {setting(self.config, self.url_setting)} "
                    f"({type(exc).__name__}) after {tries} {'try' if tries == 1 else 'tries'}",
                    f"check {self.url_setting} (leave it out for the platform's own API) and the network",
                ) from None

        return explained

    @override
    def validate_response(self, response: requests.Response) -> None:
        """A complete JSON answer: a truncated or garbled one (a broken connection, a proxy) is retried."""
        if response.status_code >= 400 or "json" not in response.headers.get("Content-Type", "json"):
            return
        try:
            response.json()
        except ValueError:
            raise RetriableAPIError(self.problem(f"the answer of {urlparse(response.url).path} was not complete JSON",
                                                 "the tap retries"), response) from None

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
        if isinstance(exc, requests.ReadTimeout):
            exc = (settings.account_label(self.platform, self.account_id)
                   + f": no answer in time from {self.path} (request_timeout {self.timeout:g} s)")
        elif not isinstance(exc, RetriableAPIError):  # a broken connection: not the URL with its query
            exc = settings.account_label(self.platform, self.account_id) + f": {type(exc).__name__} from {self.path}"
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
        """``ad_spend_daily`` records of one window, cut to the API's limit per call.

        Raises:
            BadRecordError: if the API sent a row the tap cannot read; it names the record.
        """
        account = self.account(account_id)
        for part in window.split(self.max_window_days):
            for number, row in enumerate(self.read_spend(account_id, part), 1):
                yield {
                    "platform": self.platform,
                    "account_id": account_id,
                    "currency": account["currency"],
                    "account_timezone": account["timezone"],
                    "attribution_setting": self.attribution_setting,
                    **self.checked("ad_spend_daily", account_id, row, f"row {number} of {part.since}..{part.until}"),
                }

    def campaigns(self, account_id: str) -> Iterable[dict[str, Any]]:
        """The account's ``campaigns`` records.

        Raises:
            BadRecordError: if the API sent a row the tap cannot read; it names the record.
        """
        for number, row in enumerate(self.read_campaigns(account_id), 1):
            yield {"platform": self.platform, "account_id": account_id,
                   **self.checked("campaigns", account_id, row, f"row {number}")}

    def checked(self, stream: str, account_id: str, row: Any, where: str) -> dict[str, Any]:
        """A raw row of ``stream`` (``ad_spend_daily`` or ``campaigns``) as its record, or an error naming the
        stream, the account and the record."""
        fields = self.spend_fields if stream == "ad_spend_daily" else self.campaign_fields
        try:
            if not isinstance(row, Mapping):
                raise FieldError(f"is a {type(row).__name__}, not an object")
            return self.spend_record(row) if stream == "ad_spend_daily" else {n: f.read(row) for n, f in fields.items()}
        except FieldError as exc:
            problem = exc.what
        except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError) as exc:
            problem = f"cannot be read ({type(exc).__name__})"
        campaign = dig(row, fields["campaign_id"].path)
        day_ = dig(row, fields["date"].path) if "date" in fields else None
        named = f"campaign {campaign or '(none)'}" + (f" on {day_}" if day_ is not None else "")
        again = ("the state keeps this window unread, so nothing is skipped" if stream == "ad_spend_daily"
                 else "campaigns are read whole on every run")
        msg = (f"{stream}: {settings.account_label(self.platform, account_id)}: the record of {named} ({where}) "
               f"{problem}. What to do: run again ({again}); if the same record fails again, report this message: "
               f"{settings.LABELS[self.platform]} sent data the tap cannot read")
        raise BadRecordError(msg)

    #: How a raw spend row gives each field of an ``ad_spend_daily`` record (campaign_id, campaign_name,
    #: date, spend and results); ``campaign_id`` and ``date`` also name the row in messages.
    spend_fields: ClassVar[dict[str, Field]]
    #: How a raw campaign row gives campaign_id, name, status and objective of a ``campaigns`` record.
    campaign_fields: ClassVar[dict[str, Field]]

    @abc.abstractmethod
    def read_account(self, account_id: str) -> dict[str, Any]:
        """Read one ``ad_accounts`` record."""

    @abc.abstractmethod
    def read_campaigns(self, account_id: str) -> Iterable[Any]:
        """The API's raw campaign rows of the account."""

    @abc.abstractmethod
    def read_spend(self, account_id: str, window: Window) -> Iterable[Any]:
        """The API's raw rows per campaign and day of ``window``."""

    def spend_record(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """One raw spend row as the fields of an ``ad_spend_daily`` record."""
        return {name: spec.read(row) for name, spec in self.spend_fields.items()}
