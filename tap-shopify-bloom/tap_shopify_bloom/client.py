"""The base stream: one GraphQL query of the Admin API, cost-aware, with retries."""

from __future__ import annotations

import json
import re
import typing as t
from functools import cache, cached_property
from importlib import resources

import backoff
import requests
from singer_sdk import SchemaDirectory, StreamSchema
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.metrics import Counter
from singer_sdk.pagination import BaseAPIPaginator
from singer_sdk.streams import GraphQLStream
from typing_extensions import override

from tap_shopify_bloom import errors, schemas
from tap_shopify_bloom.cost import requested_cost
from tap_shopify_bloom.records import Node, dig
from tap_shopify_bloom.settings import Settings, parse_settings
from tap_shopify_bloom.throttle import CostBucket, PageSizer

if t.TYPE_CHECKING:
    from backoff.types import Details
    from singer_sdk.helpers.types import Context
    from singer_sdk.streams.rest import RequestFunc

T = t.TypeVar("T")
QUERIES = resources.files("tap_shopify_bloom") / "queries"
FRAGMENT_SPREAD = re.compile(r"\.\.\.\s*([A-Za-z_]\w*)")
FRAGMENT_DEFINITION = re.compile(r"^fragment\s+(\w+)\s+on\s+\w+\s*\{.*?^\}", re.M | re.S)
RETRIABLE_CODES = {"THROTTLED", "INTERNAL_SERVER_ERROR", "MAX_COST_EXCEEDED"}
#: What the SDK retries: its own transient faults and the network's.
RETRIED = (
    ConnectionResetError,
    RetriableAPIError,
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


@cache
def shared_fragments() -> dict[str, str]:
    """The fragments of ``queries/fragments.graphql`` by name."""
    text = (QUERIES / "fragments.graphql").read_text()
    return {match.group(1): match.group(0) for match in FRAGMENT_DEFINITION.finditer(text)}


@cache
def load_query(name: str) -> str:
    """The text of ``queries/<name>.graphql`` with the shared fragments it uses appended."""
    text = (QUERIES / f"{name}.graphql").read_text()
    fragments = shared_fragments()
    added: list[str] = []
    pending = FRAGMENT_SPREAD.findall(text)
    while pending:
        fragment = pending.pop()
        if fragment in fragments and fragment not in added and f"fragment {fragment} " not in text:
            added.append(fragment)
            pending.extend(FRAGMENT_SPREAD.findall(fragments[fragment]))
    return "\n\n".join([text.rstrip(), *(fragments[f] for f in sorted(added))]) + "\n"


def request_size(variables: t.Mapping[str, t.Any]) -> int:
    """How many objects a request asks for at its root: ``first``, or the number of ``ids``."""
    return int(variables.get("first") or len(variables.get("ids") or ()) or 1)


def only_connection(data: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The one connection in ``{owner: {field: connection}}`` (empty if the owner is gone)."""
    owner = next(iter(data.values()), None) or {}
    return next(iter(owner.values()), None) or {}


class ThrottledError(RetriableAPIError):
    """Shopify answered THROTTLED: the cost bucket, not the backoff, decides the wait."""


class ConnectionPaginator(BaseAPIPaginator[str | None]):
    """Follows ``pageInfo.endCursor`` of the connection at ``path`` in ``data``."""

    def __init__(self, path: tuple[str, ...]) -> None:
        """Start before the first page."""
        super().__init__(None)
        self.path = path

    @override
    def get_next(self, response: requests.Response) -> str | None:
        info = dig(response.json(), "data", *self.path, "pageInfo") or {}
        return info.get("endCursor") if info.get("hasNextPage") else None


#: How often the SDK's ``record_count`` metric is logged while a stream syncs (the README's
#: "History progress line": runners show records per second from it).
RECORD_COUNT_SECONDS = 10.0


class ShopifyStream(GraphQLStream):
    """A stream read with one query of ``queries/<query_name>.graphql``."""

    schema = StreamSchema(SchemaDirectory(schemas))
    query_name: str = ""
    #: Where the records are in ``data``: a connection (with ``nodes``) or one object.
    connection_path: tuple[str, ...] = ()
    is_connection: bool = True
    page_size: int = 50
    #: Backoff of transient faults (5xx, timeouts, resets, truncated bodies): base * 2^n seconds.
    retry_base_seconds: float = 1.0
    retry_max_seconds: float = 60.0
    #: How long THROTTLED answers in a row to one request are waited out before giving up.
    throttle_budget_seconds: float = 900.0
    extra_retry_statuses: t.ClassVar[list[int]] = [429]

    def __init__(self, tap: t.Any, **kwargs: t.Any) -> None:
        """Share the tap's cost bucket (one per store)."""
        super().__init__(tap, **kwargs)
        self.owner = tap
        self.bucket: CostBucket = getattr(tap, "bucket", None) or CostBucket()
        self.sizer = PageSizer(size=self.page_size)
        self.expected_cost: float | None = None  # of this stream's next page, once Shopify has priced one
        #: Other queries by text: the last requested cost Shopify reported, and the size it was for.
        self.other_costs: dict[str, tuple[float, int]] = {}
        self._warned: set[str] = set()

    @override
    def get_record_counter(self, *, endpoint: str | None = None, log_interval: float = RECORD_COUNT_SECONDS) -> Counter:
        """The SDK's record counter, logged every ``RECORD_COUNT_SECONDS`` (not 60 s): a runner's progress reads it."""
        return super().get_record_counter(endpoint=endpoint, log_interval=log_interval)

    @cached_property
    def settings(self) -> Settings:
        """The validated settings."""
        return parse_settings(self.config)

    @property
    @override
    def url_base(self) -> str:
        return self.settings.graphql_url

    @property
    @override
    def timeout(self) -> float:
        """The ``request_timeout`` setting: seconds without an answer before a request is retried."""
        return self.settings.request_timeout

    @property
    @override
    def http_headers(self) -> dict[str, str]:
        return {
            "X-Shopify-Access-Token": self.settings.access_token,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    @cached_property
    @override
    def query(self) -> str:
        return load_query(self.query_name or self.name)

    @property
    @override
    def records_jsonpath(self) -> str:
        path = ".".join(("$", "data", *self.connection_path))
        return f"{path}.nodes[*]" if self.is_connection else path

    @override
    def get_new_paginator(self) -> BaseAPIPaginator | None:
        return ConnectionPaginator(self.connection_path) if self.is_connection else None

    @override
    def prepare_request_payload(self, context: Context | None, next_page_token: t.Any) -> dict | None:
        variables: dict[str, t.Any] = {}
        if self.is_connection:
            variables = {"first": self.sizer.size, "after": next_page_token}
            if context and context.get("search"):
                variables["query"] = context["search"]
        # Send the query as written: Shopify reads the multi-line text as is.
        return {"query": self.query, "variables": variables}

    @override
    def request_decorator(self, func: RequestFunc) -> RequestFunc:
        def send(prepared_request: requests.PreparedRequest, context: Context | None) -> requests.Response:
            self._fit_page(prepared_request)
            self.bucket.wait_for(self._expected_cost_of(prepared_request))
            return func(prepared_request, context)

        return self.with_retries(self.through_throttling(send))

    def through_throttling(self, func: t.Callable[..., T]) -> t.Callable[..., T]:
        """``func`` asked again after each THROTTLED answer, which is not a failed try.

        ``func`` waits for the cost bucket before each try (Shopify's ``throttleStatus`` of
        the THROTTLED answer says how many points it lacks). Only when THROTTLED answers go on
        for ``throttle_budget_seconds`` does it give up, with one line saying why.
        """
        retried = backoff.on_exception(
            backoff.constant,
            ThrottledError,
            max_tries=None,
            max_time=self.throttle_budget_seconds,
            on_backoff=self.throttled_handler,
            jitter=None,
            logger=None,
            interval=0,  # the bucket waits, in ``func``
        )(func)

        def patient(*args: t.Any, **kwargs: t.Any) -> T:
            try:
                return retried(*args, **kwargs)
            except ThrottledError as exc:
                raise self.throttled_too_long(exc) from None

        return patient

    def throttled_handler(self, details: Details) -> None:
        """One warning per THROTTLED answer, with the wait the bucket needs now."""
        args = details.get("args") or ()
        cost = self._expected_cost_of(args[0]) if args else 0.0
        self.logger.warning(
            "%s: Shopify answered THROTTLED (%d in a row, %.0f s of the %.0f s throttle budget); "
            "waiting %.1f s for the cost bucket",
            self.name,
            details["tries"],
            details.get("elapsed") or 0.0,
            self.throttle_budget_seconds,
            self.bucket.delay_for(cost),
        )

    def throttled_too_long(self, exc: ThrottledError) -> errors.MerchantActionError:
        """The error ending a run that Shopify kept throttling past the budget."""
        status = dig(exc.response.json(), "extensions", "cost", "throttleStatus") if exc.response is not None else None
        level = (
            f" (bucket {status.get('currentlyAvailable')} of {status.get('maximumAvailable')} points, "
            f"restoring {status.get('restoreRate')}/s)"
            if isinstance(status, dict)
            else ""
        )
        return errors.MerchantActionError(
            f"{self.name}: Shopify kept answering THROTTLED for the tap's whole throttle budget of "
            f"{self.throttle_budget_seconds:.0f} s{level}, although the tap waited for the cost bucket before "
            "each try: another app or sync is probably spending this store's API points. Stop the other sync "
            "or run again later; state keeps what was synced."
        )

    def with_retries(self, func: t.Callable[..., T]) -> t.Callable[..., T]:
        """``func`` retried on transient faults, as the SDK retries requests.

        But each retry is one warning (:meth:`backoff_handler`) instead of the backoff
        library's lines and the SDK's ERROR line, and giving up is one line: no connection
        (or a broken one, a body that stalled) try after try, or no answer in time.
        """
        retried = backoff.on_exception(
            self.backoff_wait_generator,
            RETRIED,
            max_tries=self.backoff_max_tries,
            on_backoff=self.backoff_handler,
            jitter=self.backoff_jitter,
            logger=None,
        )(func)

        def timed(*args: t.Any, **kwargs: t.Any) -> T:
            try:
                return retried(*args, **kwargs)
            except requests.exceptions.ConnectionError as exc:  # a connect timeout is one too
                raise errors.unreachable(self.settings.api_url, exc, self.backoff_max_tries()) from None
            except requests.exceptions.Timeout:
                raise errors.no_answer(self.name, self.timeout, self.backoff_max_tries()) from None

        return timed

    @override
    def backoff_handler(self, details: Details) -> None:
        self.logger.warning(
            "%s: Backing off %.1f s after try %d of %d: %s",
            self.name,
            details.get("wait") or 0.0,
            details["tries"],
            self.backoff_max_tries(),
            errors.describe(details.get("exception")),
        )

    def _expected_cost_of(self, prepared_request: requests.PreparedRequest) -> float:
        """What the request will request: Shopify's last price of the query, scaled to its size
        (``first`` or the number of ``ids``); before any price, an upper bound from its text."""
        payload = json.loads(prepared_request.body or b"{}")
        query, variables = payload.get("query") or "", payload.get("variables") or {}
        if query == self.query and self.expected_cost is not None:
            return self.expected_cost
        if query in self.other_costs:
            cost, size = self.other_costs[query]
            return cost * max(1.0, request_size(variables) / size)
        return requested_cost(query, variables)

    def _fit_page(self, prepared_request: requests.PreparedRequest) -> None:
        """Shrink ``first`` in a request being retried after MAX_COST_EXCEEDED."""
        if not self.is_connection or not prepared_request.body:
            return
        payload = json.loads(prepared_request.body)
        if (payload.get("variables") or {}).get("first", 0) > self.sizer.size:
            payload["variables"]["first"] = self.sizer.size
            prepared_request.prepare_body(data=None, files=None, json=payload)

    @override
    def backoff_max_tries(self) -> int:
        return 8

    @override
    def backoff_wait_generator(self) -> t.Generator[float, t.Any, None]:
        def delays() -> t.Generator[float, t.Any, None]:
            attempt = 0
            yield 0.0  # primed by backoff
            while True:
                attempt += 1
                yield min(self.retry_max_seconds, self.retry_base_seconds * 2**attempt)

        return delays()

    @override
    def backoff_jitter(self, value: float) -> float:
        return backoff.full_jitter(value) if value else 0.0

    @override
    def validate_response(self, response: requests.Response) -> None:
        self._check_version(response)
        if response.status_code in self.extra_retry_statuses or response.status_code >= 500:
            raise RetriableAPIError(f"Shopify answered {response.status_code}; retrying", response)
        if response.status_code >= 400:
            raise errors.http_error(response, self.settings.store, self.url_base) or FatalAPIError(
                f"Shopify answered {response.status_code}: {response.text[:300]}"
            )
        try:
            payload = response.json()
        except ValueError as exc:  # a truncated or garbled body
            raise RetriableAPIError("Shopify's answer was not complete JSON; retrying", response) from exc
        cost = dig(payload, "extensions", "cost")
        self.bucket.observe(cost)
        codes = errors.error_codes(payload)
        if codes or cost:
            self._learn_cost(response, payload)
        if "THROTTLED" in codes:
            self.bucket.refused(dig(cost, "requestedQueryCost"))
            raise ThrottledError("Shopify answered THROTTLED; waiting for the cost bucket", response)
        if "MAX_COST_EXCEEDED" in codes:
            self.sizer.shrink()
        if codes and set(codes) <= RETRIABLE_CODES:
            raise RetriableAPIError(f"Shopify answered {', '.join(codes)}; retrying", response)
        if "ACCESS_DENIED" in codes:
            raise errors.access_denied(payload["errors"])
        if payload.get("errors"):
            raise FatalAPIError(f"Shopify refused the query of '{self.name}': {errors.error_text(payload)}")

    def _learn_cost(self, response: requests.Response, payload: t.Mapping[str, t.Any]) -> None:
        """Size the next page from what Shopify said this page requested."""
        requested = dig(payload, "extensions", "cost", "requestedQueryCost")
        if not requested or response.request.body is None:
            return
        sent = json.loads(response.request.body)
        if sent.get("query") != self.query or not self.is_connection:  # not one of this stream's pages
            self.other_costs[sent.get("query")] = (float(requested), request_size(sent.get("variables") or {}))
            return
        if "THROTTLED" in errors.error_codes(payload):  # the same page comes again: its price, no resizing
            self.expected_cost = float(requested)
            return
        self.sizer.adapt(requested, int(sent["variables"]["first"]), self.bucket.maximum)
        self.expected_cost = self.sizer.expected_cost

    def graphql(self, query_name: str, variables: dict[str, t.Any]) -> dict[str, t.Any]:
        """Send one other query or mutation of ``queries/`` (cost-aware, with retries); return ``data``."""
        prepared = self.build_prepared_request(
            method="POST",
            url=self.get_url(None),
            headers=self.http_headers,
            json={"query": load_query(query_name), "variables": variables},
        )

        def send(request: requests.PreparedRequest, _context: Context | None) -> requests.Response:
            response = self.requests_session.send(request, timeout=self.timeout)
            self.validate_response(response)
            return response

        return self.request_decorator(send)(prepared, None).json().get("data") or {}

    def complete_connection(self, page: dict[str, t.Any], query_name: str, owner_id: str) -> None:
        """Append to a nested connection's ``nodes`` the pages after its first.

        ``query_name`` takes ``$id`` (the connection's owner) and ``$after``, and answers
        with one connection at its only ``{field: {connection}}`` path.
        """
        info = page.get("pageInfo") or {}
        while info.get("hasNextPage"):
            data = self.graphql(query_name, {"id": owner_id, "after": info.get("endCursor")})
            more = only_connection(data)
            page["nodes"] = [*page.get("nodes", []), *(more.get("nodes") or [])]
            info = more.get("pageInfo") or {}

    def _check_version(self, response: requests.Response) -> None:
        served = response.headers.get("X-Shopify-API-Version")
        wanted = self.settings.api_version
        if served and served != wanted and "version" not in self._warned:
            self._warned.add("version")
            self.logger.warning(
                "Shopify served API version %s instead of %s, which it no longer supports. Set "
                "`api_version` to a supported version (the tap is tested with 2026-10).",
                served,
                wanted,
            )
        reason = response.headers.get("X-Shopify-API-Deprecated-Reason")
        if reason and "deprecated" not in self._warned:
            self._warned.add("deprecated")
            self.logger.warning(
                "Shopify reports deprecated API use by '%s': %s. Upgrade the tap or set a newer `api_version`.",
                self.name,
                reason,
            )

    @override
    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        try:
            mapped = self.to_row(row)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:  # a nested object without its key ...
            problem = f"{row.get('id') or 'a record'} lacks what the tap reads ({type(exc).__name__} {str(exc)[:60]})"
            raise errors.bad_record(self.name, problem, self.whereabouts()) from None
        return {"shop": self.settings.store, **mapped}

    def whereabouts(self) -> str:
        """Where the stream is reading, for an error naming a record."""
        return f"query {self.query_name or self.name}"

    def to_row(self, node: Node) -> dict[str, t.Any]:
        """The raw-table row of one node (the stream's column mapping)."""
        return dict(node)
