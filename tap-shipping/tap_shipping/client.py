"""The base stream: one provider account over HTTP, with its rate gate, retries and errors."""

from __future__ import annotations

import abc
import itertools
import json
import random
from collections.abc import Callable, Generator, Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import wraps
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar

import requests
from singer_sdk import RESTStream
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.helpers.jsonpath import extract_jsonpath
from singer_sdk.metrics import Counter
from singer_sdk.schema.source import SchemaDirectory, StreamSchema
from typing_extensions import override

from tap_shipping import schemas
from tap_shipping.normalize import EXPECTED, field_names
from tap_shipping.page_memo import PageMemo
from tap_shipping.personal import DEFAULT_PII, protected
from tap_shipping.rate_limit import RateGate, header_seconds
from tap_shipping.settings import LABELS
from tap_shipping.timezones import parse_iso, utc_iso

if TYPE_CHECKING:
    from singer_sdk import Stream
    from singer_sdk.helpers.types import Context
    from singer_sdk.streams.rest import RequestFunc

    from tap_shipping.settings import Account
    from tap_shipping.tap import TapShipping

SCHEMAS = SchemaDirectory(schemas)
EXTRA_FIELDS = "extra_fields"  # a raw record's object of the fields its schema does not have
_PARSED = "_tap_shipping_json"  # the attribute of a response holding its parsed JSON (see body)
DEFAULT_LOOKBACK_DAYS = 30
DEFAULT_INITIAL_WINDOW_DAYS = 7  # what a first sync with backfill false reads
DEFAULT_RETRY_SECONDS = 1.0  # first retry after a 5xx or a broken connection; doubles each try
DEFAULT_REQUEST_TIMEOUT = 300  # seconds without an answer before a request is retried (the SDK's default)


def body(response: requests.Response) -> Any:
    """The JSON of ``response`` (numbers with decimals as ``Decimal``), parsed once: validation,
    parsing, paging and the page memo's second reader all read it, so the result is kept on the
    response object. Callers must not change it.

    Raises:
        ValueError: if the body is not (complete) JSON.
    """
    if not hasattr(response, _PARSED):
        setattr(response, _PARSED, response.json(parse_float=Decimal))
    return getattr(response, _PARSED)


class ProviderAPIError(FatalAPIError):
    """A request failed for good; the message names provider, account and fix."""


class BadRecordError(FatalAPIError):
    """A provider sent a record the tap cannot read; the message names stream, account and record."""


def window_start(stream: Stream, context: Context | None) -> datetime | None:
    """Where a read starts: the bookmark minus the trailing window, not before ``start_date``.

    ``context["since"]`` (ISO-8601, or ``None`` for everything) overrides the bookmark, for
    streams reading on behalf of ``shipping_labels``. ``None`` means from the beginning.

    The history a run with ``backfill`` false leaves owed sits in the partition's state as
    ``history`` (``{"start": <start_date or null>, "end": <where the recent window began>}``).
    A first run with ``backfill`` false records it and reads from its end (the last
    ``initial_window_days``); later runs with ``false`` never start before its end; a run with
    ``true`` reads from its start, and :func:`finish_history` drops it once the read is done.
    """
    if context and "since" in context:
        return parse_iso(context["since"]) if context["since"] else None
    start_date = stream.config.get("start_date")
    floor = parse_iso(start_date) if start_date else None
    bookmark = stream.get_starting_timestamp(context)
    if bookmark is None or (floor is not None and bookmark <= floor):
        since, first = floor, True
    else:
        if bookmark.tzinfo is None:
            bookmark = bookmark.replace(tzinfo=UTC)
        since = bookmark - timedelta(days=stream.config.get("lookback_days", DEFAULT_LOOKBACK_DAYS))
        since, first = (max(since, floor) if floor else since), False
    state = stream.get_context_state(context)
    backfill = stream.config.get("backfill", True)
    if first and not backfill and "history" not in state:
        days = stream.config.get("initial_window_days", DEFAULT_INITIAL_WINDOW_DAYS)
        recent = (datetime.now(UTC) - timedelta(days=days)).replace(microsecond=0)
        if floor is None or recent > floor:
            state["history"] = {"start": utc_iso(floor) if floor else None, "end": utc_iso(recent)}
            stream.logger.info(
                "%s: labels created before %s left pending (backfill is false)", stream.name, state["history"]["end"]
            )
    history = state.get("history")
    if not history:
        return since
    if backfill:
        return parse_iso(history["start"]) if history["start"] else None
    end = parse_iso(history["end"])
    return max(since, end) if since else end


def finish_history(stream: Stream, context: Context | None) -> bool:
    """After a whole read with ``backfill`` true, the history it owed is done; whether there was one."""
    if stream.config.get("backfill", True):
        return stream.get_context_state(context).pop("history", None) is not None
    return False


def history_line(stream: Stream, context: Context | None, provider: str, account_id: str) -> str:
    """The ``HISTORY:`` line saying how much of the partition's history is still pending.

    The history is read in one go: all of it is pending, or none. ``months`` counts the calendar months
    the pending range touches; with an open start (no ``start_date``) both counts are None.
    """
    history = stream.get_context_state(context).get("history")
    start = parse_iso(history["start"]) if history and history["start"] else None
    end = parse_iso(history["end"]) if history else None
    months = None
    if start and end:
        last = end - timedelta(microseconds=1)  # the end is exclusive
        months = (last.year - start.year) * 12 + last.month - start.month + 1
    line = {
        "stream": stream.name,
        "shop": None,
        "platform": provider,
        "account_id": account_id,
        "months": months,
        "months_pending": months if history else 0,
        "pending_from": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if start else None,
        "pending_to": end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if end else None,
    }
    return "HISTORY: " + json.dumps(line)


#: How often the SDK's ``record_count`` metric is logged while a stream syncs (the README's
#: "History progress line": runners show records per second from it).
RECORD_COUNT_SECONDS = 10.0


class ShippingStream(RESTStream[Any], abc.ABC):
    """One stream of one provider account; subclasses set the provider's auth and paging."""

    schema = StreamSchema(SCHEMAS)
    provider: ClassVar[str]
    #: What to tell the user when credentials are refused.
    credentials_fix: ClassVar[str]

    #: The raw record's id field, and the fields checked before a record is used: name -> (reader, required).
    record_key: ClassVar[str]
    record_fields: ClassVar[dict[str, tuple[Callable[[Any], object], bool]]]
    #: Columns of the schema the tap adds (not the API's), and fields the API sends that are not loaded on
    #: purpose; any other field the schema does not have is new and kept in ``extra_fields``.
    added_fields: ClassVar[frozenset[str]] = frozenset({"account_id", EXTRA_FIELDS})
    left_out: ClassVar[frozenset[str]] = frozenset()
    #: Personal fields (``name`` or ``parent.child``), kept, hashed or dropped per the ``pii`` setting.
    personal_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self, tap: TapShipping, account: Account, gate: RateGate, memo: PageMemo, single_gate: RateGate | None = None
    ) -> None:
        """Bind the stream to one account and the rate gates and page memo all its streams share.

        ``single_gate`` paces fetches of one object by id (``context["object_id"]``), where the
        API limits them apart from lists; without it they go through ``gate``.
        """
        self.account = account
        self.gate = gate
        self.single_gate = single_gate or gate
        self.memo = memo
        super().__init__(tap=tap)
        self._api_fields = frozenset(self.schema["properties"]) - self.added_fields
        self._known_fields = self._api_fields | self.left_out  # a row's other fields are new
        self._named_new_fields: set[str] = set()  # new fields already logged in this run

    @override
    def get_record_counter(self, *, endpoint: str | None = None, log_interval: float = RECORD_COUNT_SECONDS) -> Counter:
        """The SDK's record counter, logged every ``RECORD_COUNT_SECONDS`` (not 60 s): a runner's progress reads it."""
        return super().get_record_counter(endpoint=endpoint, log_interval=log_interval)

    @property
    @override
    def url_base(self) -> str:
        return self.account.api_url

    @property
    @override
    def timeout(self) -> float:  # type: ignore[override]
        """The request_timeout setting: seconds without an answer before a request is retried."""
        return float(self.config.get("request_timeout", DEFAULT_REQUEST_TIMEOUT))

    @property
    @override
    def partitions(self) -> list[dict[str, Any]]:
        return [{"account_id": self.account.account_id}]

    def shares_pages(self, context: Context | None) -> bool:
        """Whether this read's pages are read twice in the run (raw stream and ``shipping_labels``).

        Only the window's list pages are: not ShipStation's void-date query nor single objects.
        """
        if context and (context.get("by") or context.get("object_id")):
            return False
        return self.selected and self.memo.labels_selected()

    @override
    def request_decorator(self, func: RequestFunc) -> RequestFunc:
        """Wait at the rate gate before every attempt; name the account when retries run out.

        A page the other reader of the account already fetched in this run is taken from the
        page memo instead of requested again.
        """

        @wraps(func)
        def gated(prepared: requests.PreparedRequest, context: Context | None) -> requests.Response:
            (self.single_gate if context and context.get("object_id") else self.gate).before_request()
            response = func(prepared, context)
            if self.shares_pages(context):
                self.memo.keep(response)
            return response

        retried = super().request_decorator(gated)  # type: ignore[arg-type]

        @wraps(func)
        def explained(prepared: requests.PreparedRequest, context: Context | None) -> requests.Response:
            if self.shares_pages(context) and (kept := self.memo.take(prepared)):
                return kept
            try:
                return retried(prepared, context)
            except RetriableAPIError as exc:
                cause, fix = self._give_up_reason(exc)
                msg = (
                    f"{self.account.describe()}: {self.path} still failing after {self.backoff_max_tries()} "
                    f"tries ({cause}); the run stopped and the bookmarks are kept: {fix}"
                )
                raise ProviderAPIError(msg) from exc
            except requests.exceptions.ReadTimeout as exc:
                msg = (
                    f"{self.account.describe()}: no answer from {self.path} within request_timeout "
                    f"({self.timeout:g} s), {self.backoff_max_tries()} tries in a row; the run stopped and the "
                    "bookmarks are kept: run again later; if the answers are merely slow, raise request_timeout"
                )
                raise ProviderAPIError(msg) from exc
            except requests.exceptions.RequestException as exc:
                msg = (
                    f"{self.account.describe()}: cannot reach {self.url_base} ({type(exc).__name__}); "
                    f"check {self.provider}_api_url and the network"
                )
                raise ProviderAPIError(msg) from exc

        return explained

    def _give_up_reason(self, exc: RetriableAPIError) -> tuple[str, str]:
        """What the last try got, and what to do about it."""
        status = exc.response.status_code if exc.response is not None else None
        label = LABELS[self.provider]
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            return (
                "429: rate limited on every try, though the tap keeps to the limit, so another client shares it",
                f"give each client its own {label} credentials, or run again later",
            )
        if status is not None and status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            return (
                f"{status}: {label} failed on every try",
                f"run again later; check {label}'s status page if it persists",
            )
        return (
            str(exc).split(": ", 1)[-1],
            f"run again later; if it persists, check {self.provider}_api_url and any proxy in between",
        )

    @override
    def validate_response(self, response: requests.Response) -> None:
        self.gate.observe(response)
        status = response.status_code
        who = self.account.describe()
        if status in {HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN}:
            msg = f"{who}: credentials refused ({status}); {self.credentials_fix}"
            raise ProviderAPIError(msg)
        if status == HTTPStatus.NOT_FOUND:
            msg = (
                f"{who}: {self.path} not found at {self.url_base} (404); check {self.provider}_api_url "
                f"(the API's base URL, e.g. without a version path)"
            )
            raise ProviderAPIError(msg)
        if status == HTTPStatus.TOO_MANY_REQUESTS or status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            raise RetriableAPIError(f"{who}: {status} from {self.path}", response)
        if status >= HTTPStatus.BAD_REQUEST:
            msg = f"{who}: {self.path} refused the request ({status}): {response.text[:300]}"
            raise ProviderAPIError(msg)
        try:
            body(response)
        except ValueError:  # a truncated or garbled body: a broken connection, a proxy
            raise RetriableAPIError(f"{who}: the answer of {self.path} was not complete JSON", response) from None

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        for number, row in enumerate(self.rows_of(response), 1):
            yield self.checked(row, number)

    def rows_of(self, response: requests.Response) -> Iterable[Any]:
        """The raw records of one answer (from the JSON :meth:`validate_response` parsed)."""
        yield from extract_jsonpath(self.records_jsonpath, input=body(response))

    def checked(self, row: Any, number: int) -> dict:
        """``row`` if its id and the fields the tap reads are there and of their type, with the fields the
        schema does not have moved into ``extra_fields`` (see :meth:`kept`); else an error that names the
        stream, the account and the record (by its id, or its place in the page)."""
        problem = f"is a {type(row).__name__}, not an object" if not isinstance(row, dict) else None
        for name, (read, required) in self.record_fields.items() if problem is None else ():
            value = row.get(name)
            if value is None:
                problem = f"has no {name}" if required else None
            else:
                try:
                    read(value)
                except (KeyError, ValueError, TypeError, ArithmeticError, AttributeError):
                    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
                    problem = f"has {name} {shown}, which is not {EXPECTED[read]}"
            if problem:
                break
        if problem is None:
            return self.kept(row)
        key = row.get(self.record_key) if isinstance(row, dict) else None
        named = f"{self.record_key} {key}" if isinstance(key, str | int) else f"number {number} of its page"
        msg = (
            f"{self.name}: {self.account.describe()}: the record {named} {problem}. What to do: run again (the "
            "bookmark stays before this record, so nothing is skipped); if the same record fails again, report "
            f"this message: {LABELS[self.provider]} sent data the tap cannot read"
        )
        raise BadRecordError(msg)

    def kept(self, row: dict) -> dict:
        """The fields of ``row`` its schema has, and the others (not :attr:`left_out`) by their API name in
        ``extra_fields`` (``None``: there are none; :meth:`post_process` drops their values unless ``pii`` is
        ``keep``); their names, never their values, are logged once per run."""
        new = {name: value for name, value in row.items() if name not in self._known_fields}
        unnamed = set(new) - self._named_new_fields
        if unnamed:
            self._named_new_fields |= unnamed
            self.logger.warning(
                "%s: %s: %s sent %s the tap does not know: %s. What to do: nothing; the record's %s keeps %s until "
                "the tap reads them; values are never logged",
                self.name,
                self.account.describe(),
                LABELS[self.provider],
                "a field" if len(unnamed) == 1 else "fields",
                field_names(unnamed),
                EXTRA_FIELDS,
                "the values"
                if self.config.get("pii", DEFAULT_PII) == "keep"
                else "the names, not the values (pii hash or drop)",
            )
        return {**{k: v for k, v in row.items() if k in self._api_fields}, EXTRA_FIELDS: new or None}

    @override
    def backoff_wait_generator(self) -> Generator[float, None, None]:
        attempts = itertools.count()

        def wait(exc: Exception) -> float:
            response = getattr(exc, "response", None)
            if response is not None and response.status_code == HTTPStatus.TOO_MANY_REQUESTS:
                asked = header_seconds(response)
                if asked is not None:
                    return asked + 0.05
            return float(self.config.get("retry_initial_seconds", DEFAULT_RETRY_SECONDS)) * 2 ** next(attempts)

        return self.backoff_runtime(value=wait)

    @override
    def backoff_handler(self, details: Any) -> None:
        """One warning naming the account and the cause; not the SDK's dump of the request's arguments."""
        exc = details.get("exception")
        response = getattr(exc, "response", None)
        cause = type(exc).__name__
        if isinstance(exc, requests.exceptions.ReadTimeout):
            cause = f"no answer in time (request_timeout {self.timeout:g} s)"
        elif response is not None:
            cause = f"HTTP {response.status_code}" if response.status_code >= 300 else "incomplete JSON"
        self.logger.warning(
            "%s: %s from %s (try %d); retrying in %.1f s",
            self.account.describe(),
            cause,
            self.path,
            details.get("tries", 0),
            details.get("wait", 0.0),
        )

    @override
    def backoff_jitter(self, value: float) -> float:
        return value * (1 + 0.1 * random.random())  # noqa: S311 - jitter, not cryptography

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        window_start(self, context)  # the run's plan: a first run with backfill false records its history
        self.logger.info("%s", history_line(self, context, self.provider, self.account.account_id))
        yield from super().get_records(context)
        if finish_history(self, context):
            self.logger.info("%s", history_line(self, context, self.provider, self.account.account_id))

    @override
    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """The record with its account, its personal fields and new fields' values as ``pii`` says."""
        mode = self.config.get("pii", DEFAULT_PII)
        return protected({"account_id": self.account.account_id, **row}, self.personal_fields, mode, EXTRA_FIELDS)
