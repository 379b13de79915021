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
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import wraps
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import requests
from singer_sdk import RESTStream
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.helpers.jsonpath import extract_jsonpath
from typing_extensions import override

from tap_adplatforms import settings
from tap_adplatforms.records import EXTRA_FIELDS, KINDS, BadRecordError, FieldError, RowShape, field_names
from tap_adplatforms.windows import Window, months_before

if TYPE_CHECKING:
    from collections.abc import Generator

    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context
    from singer_sdk.streams.rest import RequestFunc

READER_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}
_PARSED = "_tap_adplatforms_json"  # the attribute of a response holding its parsed JSON (see body)


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


def body(response: requests.Response) -> Any:
    """The JSON of ``response`` (numbers with decimals as ``Decimal``), parsed once: validation,
    parsing and paging all read it, so the result is kept on the response object.

    Raises:
        ValueError: if the body is not (complete) JSON.
    """
    if not hasattr(response, _PARSED):
        setattr(response, _PARSED, response.json(parse_float=Decimal))
    return getattr(response, _PARSED)


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
                msg = (
                    f"{what}; still failing after {self.backoff_max_tries()} tries, so the run stopped "
                    "(state keeps what was loaded). What to do: run again later; if it keeps failing, check "
                    "the platform's status page, or raise request_max_tries"
                )
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
            body(response)
        except ValueError:
            raise RetriableAPIError(
                self.problem(f"the answer of {urlparse(response.url).path} was not complete JSON", "the tap retries"),
                response,
            ) from None

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
            exc = (
                settings.account_label(self.platform, self.account_id)
                + f": no answer in time from {self.path} (request_timeout {self.timeout:g} s)"
            )
        elif not isinstance(exc, RetriableAPIError):  # a broken connection: not the URL with its query
            exc = settings.account_label(self.platform, self.account_id) + f": {type(exc).__name__} from {self.path}"
        self.log(
            "%s (try %d); retrying in %.1f s",
            exc,
            details.get("tries", 0),
            details.get("wait", 0.0),
            level=logging.WARNING,
        )

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """The rows at ``records_jsonpath`` of the JSON :meth:`validate_response` parsed."""
        yield from extract_jsonpath(self.records_jsonpath, input=body(response))

    def rows(self, context: dict[str, Any]) -> Iterable[Any]:
        """The endpoint's raw rows for ``context`` (all pages), each through :meth:`post_process`."""
        for row in self.request_records(context):
            yield self.post_process(row, context)

    def fatal(self, what: str, fix: str) -> FatalAPIError:
        """A fatal error with a message naming platform, account and fix."""
        return FatalAPIError(self.problem(what, fix))


class PlatformSource(abc.ABC):
    """One platform's accounts, campaigns and daily spend, normalized."""

    platform: ClassVar[str]
    max_window_days: ClassVar[int | None] = None  # the API's limit on days per call
    history_months: ClassVar[int | None] = None  # how far back the API keeps daily figures
    attribution_setting: ClassVar[str | None] = None
    #: Per kind of record (``ad_accounts``, ``campaigns``, ``ad_spend_daily``: see
    #: :data:`~tap_adplatforms.records.KINDS`), how the API's raw rows give its columns; a
    #: campaign's ``campaign_id`` and a spend row's ``date`` also name the row in messages.
    shapes: ClassVar[Mapping[str, RowShape]]

    def __init__(self, tap: Tap) -> None:
        self.tap = tap
        self._readers: dict[tuple[str, str], AccountReader] = {}
        self._accounts: dict[str, dict[str, Any]] = {}
        self._named_new_fields: set[tuple[str, str]] = set()  # (stream, field) already logged in this run

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
        """The account's ``ad_accounts`` record (read once per run).

        Raises:
            BadRecordError: if the API sent an account the tap cannot read (no currency or time zone).
        """
        if account_id not in self._accounts:
            self._accounts[account_id] = self.record("ad_accounts", account_id, self.read_account(account_id))
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
                    "currency": account["currency"],
                    "account_timezone": account["timezone"],
                    "attribution_setting": self.attribution_setting,
                    **self.record("ad_spend_daily", account_id, row, f"row {number} of {part.since}..{part.until}"),
                }

    def campaigns(self, account_id: str) -> Iterable[dict[str, Any]]:
        """The account's ``campaigns`` records.

        Raises:
            BadRecordError: if the API sent a row the tap cannot read; it names the record.
        """
        for number, row in enumerate(self.read_campaigns(account_id), 1):
            yield self.record("campaigns", account_id, row, f"row {number}")

    def record(self, kind: str, account_id: str, row: Any, where: str = "") -> dict[str, Any]:
        """A raw row as a ``kind`` record of the account, the fields the tap does not know kept in
        ``extra_fields``; or an error naming the stream, the account and the record (``where``: its place).

        Raises:
            BadRecordError: if a field the tap reads is missing or of the wrong type.
        """
        shape, names = self.shapes[kind], KINDS[kind]
        stream, label = names.stream(self.platform), settings.account_label(self.platform, account_id)
        try:
            if not isinstance(row, Mapping):
                raise FieldError(f"is a {type(row).__name__}, not an object")
            columns = shape.read(row)
        except FieldError as exc:
            problem = exc.what
        except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError) as exc:
            problem = f"cannot be read ({type(exc).__name__})"
        else:
            new = shape.new_fields(row)
            if new:
                self._name_new_fields(stream, label, new)
            return {"platform": self.platform, "account_id": account_id, **columns, EXTRA_FIELDS: new}
        place = f" ({where})" if where else ""
        msg = (
            f"{stream}: {label}: {names.named(row, shape)}{place} {problem}. What to do: run again "
            f"({names.again}); if the same record fails again, report this message: "
            f"{settings.LABELS[self.platform]} sent data the tap cannot read"
        )
        raise BadRecordError(msg)

    def _name_new_fields(self, stream: str, label: str, new: Mapping[str, Any]) -> None:
        """Log the names (never the values) of new fields, once per stream and field in a run."""
        names = {name for name in new if (stream, name) not in self._named_new_fields}
        if not names:
            return
        self._named_new_fields.update((stream, name) for name in names)
        self.tap.logger.warning(
            "%s: %s: %s sent %s the tap does not know: %s. What to do: nothing; the values are kept in the "
            "record's %s (not logged) until the tap reads them",
            stream,
            label,
            settings.LABELS[self.platform],
            "a field" if len(names) == 1 else "fields",
            field_names(names),
            EXTRA_FIELDS,
        )

    @abc.abstractmethod
    def read_account(self, account_id: str) -> Any:
        """The API's raw account row."""

    @abc.abstractmethod
    def read_campaigns(self, account_id: str) -> Iterable[Any]:
        """The API's raw campaign rows of the account."""

    @abc.abstractmethod
    def read_spend(self, account_id: str, window: Window) -> Iterable[Any]:
        """The API's raw rows per campaign and day of ``window``."""
