"""The base streams: one GraphQL stream for the Admin API and one windowed incremental stream."""

from __future__ import annotations

import json
import re
import typing as t
from datetime import UTC, datetime, timedelta
from functools import cache, cached_property
from importlib import resources

import backoff
from singer_sdk import SchemaDirectory, StreamSchema
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.pagination import BaseAPIPaginator
from singer_sdk.streams import GraphQLStream
from typing_extensions import override

from tap_shopify_bloom import errors, schemas
from tap_shopify_bloom.bulk import BulkClient, BulkResultUnavailableError, bulk_query_text, joined_nodes
from tap_shopify_bloom.cost import requested_cost
from tap_shopify_bloom.records import Node, dig
from tap_shopify_bloom.settings import Settings, parse_settings
from tap_shopify_bloom.throttle import CostBucket, PageSizer
from tap_shopify_bloom.windows import Window, WindowPlan, parse_iso

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context
    from singer_sdk.streams.rest import RequestFunc

QUERIES = resources.files("tap_shopify_bloom") / "queries"
FRAGMENT_SPREAD = re.compile(r"\.\.\.\s*([A-Za-z_]\w*)")
FRAGMENT_DEFINITION = re.compile(r"^fragment\s+(\w+)\s+on\s+\w+\s*\{.*?^\}", re.M | re.S)
RETRIABLE_CODES = {"THROTTLED", "INTERNAL_SERVER_ERROR", "MAX_COST_EXCEEDED"}


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

        return super().request_decorator(send)

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
            exception = yield 0.0  # primed by backoff
            while True:
                attempt += 1
                if isinstance(exception, ThrottledError):
                    exception = yield 0.0  # the bucket waits exactly as long as needed
                else:
                    exception = yield min(self.retry_max_seconds, self.retry_base_seconds * 2**attempt)

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
            self.bucket.throttled += 1
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
        return {"shop": self.settings.store, **self.to_row(row)}

    def to_row(self, node: Node) -> dict[str, t.Any]:
        """The raw-table row of one node (the stream's column mapping)."""
        return dict(node)


class WindowedStream(ShopifyStream):
    """An incremental stream read in time windows of a search filter.

    A run fetches the live window (everything since the stream's cursor; on the first
    run the last ``initial_window_days``) and then, newest first, the monthly history
    windows still pending, recording each finished one in state (see ``windows.py``).
    """

    #: Search field of the time windows, e.g. ``updated_at``.
    filter_field: str = "updated_at"
    #: The node's GraphQL field holding the filter field's value.
    cursor_field: str = "updatedAt"
    #: Re-read this much before the cursor (for records that change after their time).
    lookback: timedelta = timedelta(0)
    #: Reach back before ``start_date`` in the oldest history window (for dimensions such as
    #: products, whose old rows later orders still need).
    history_before_start_date = False
    is_sorted = False
    records_so_far = 0
    #: Set while the shop stream runs this stream's first live window ahead of all history.
    live_only = False

    @cached_property
    def seen_live(self) -> dict[str, str]:
        """Node id -> cursor value of what the early live window emitted (not emitted again)."""
        return {}

    def needs_first_sync(self) -> bool:
        """Whether this stream has never finished a live window."""
        return "cursor" not in self.stream_state.get("windows", {})

    def expand(self, node: Node) -> t.Iterable[Node]:
        """The records in one node (the node itself, or e.g. an order's transactions)."""
        yield node

    def now(self) -> datetime:
        """The current time (UTC)."""
        return datetime.now(UTC)

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        settings = self.settings
        state = self.stream_state.setdefault("windows", {})
        plan, live = WindowPlan.begin(
            state,
            start_date=settings.start_date,
            now=self.now(),
            initial_window=timedelta(days=settings.initial_window_days),
            lookback=self.lookback,
            open_start=self.history_before_start_date,
        )
        self._checkpoint()
        latest = yield from self.fetch_live(live)
        plan.finish_live(latest, live)
        self._checkpoint()
        if self.live_only:
            return
        pending = plan.pending_history()
        for index, window in enumerate(pending):
            self.prepare_history(pending[index:])
            yield from self.fetch_history(window)
            plan.finish_month(t.cast("str", window.key))
            self._checkpoint()

    def prepare_history(self, windows: list[Window]) -> None:
        """Get ready for the pending history windows (the bulk stream starts operations)."""

    def fetch_live(self, window: Window) -> t.Generator[dict[str, t.Any], None, str | None]:
        """Fetch the live window (paginated; the bulk stream uses bulk when it is large)."""
        return (yield from self.fetch_window(window))

    def fetch_history(self, window: Window) -> t.Generator[dict[str, t.Any], None, str | None]:
        """Fetch one closed history window (paginated; the bulk stream overrides this)."""
        return (yield from self.fetch_window(window))

    def fetch_window(
        self, window: Window, skip: t.Container[str] = ()
    ) -> t.Generator[dict[str, t.Any], None, str | None]:
        """Fetch one window page by page; return the latest cursor value seen."""
        nodes = self.fresh(self.request_records({"search": window.search(self.filter_field)}), skip)
        return (yield from self.emit_nodes(self.completed(nodes), window, "pages"))

    def fresh(self, nodes: t.Iterable[Node], skip: t.Container[str] = ()) -> t.Iterator[Node]:
        """Nodes not emitted already: not in ``skip``, nor unchanged since the early live window."""
        for node in nodes:
            node_id = str(node.get("id"))
            if node_id in skip or self.seen_live.get(node_id, "") == node.get(self.cursor_field):
                continue
            yield node

    def completed(self, nodes: t.Iterable[Node]) -> t.Iterable[Node]:
        """Nodes completed with what their query could not fetch (nested pages beyond the first)."""
        return nodes

    def emit_nodes(
        self, nodes: t.Iterable[Node], window: Window, how: str
    ) -> t.Generator[dict[str, t.Any], None, str | None]:
        """Yield the records of ``nodes``; log progress; return the latest cursor value."""
        latest: str | None = None
        count = 0
        spent_before = self.bucket.points_spent
        self.logger.info("%s: fetching window %s by %s", self.name, window, how)
        for node in nodes:
            value = node.get(self.cursor_field)
            if self.live_only and value:
                self.seen_live[str(node.get("id"))] = value
            if value and (latest is None or parse_iso(value) > parse_iso(latest)):
                latest = value
            for record in self.expand(node):
                count += 1
                yield dict(record)
        self.records_so_far += count
        self.logger.info(
            "%s: window %s done by %s: %d records (%d so far), %.0f points spent (%.0f in total, %d throttled)",
            self.name,
            window,
            how,
            count,
            self.records_so_far,
            self.bucket.points_spent - spent_before,
            self.bucket.points_spent,
            self.bucket.throttled,
        )
        return latest

    def _checkpoint(self) -> None:
        """Fold this run's progress into the bookmark and emit a STATE message.

        The SDK tracks an unsorted stream's latest value in ``progress_markers`` and would
        promote it at the end even when it is older than the bookmark (history comes newest
        first); the tap keeps the maximum itself and empties the markers at each window.
        """
        state = self.stream_state
        markers = state.setdefault("progress_markers", {})
        value = markers.pop("replication_key_value", None)
        markers.clear()
        if value is not None:
            old = state.get("replication_key_value")
            if old is None or parse_iso(str(value)) > parse_iso(str(old)):
                state["replication_key"] = self.replication_key
                state["replication_key_value"] = value
        self.owner.state_writer.write_state(self.tap_state)


class BulkWindowedStream(WindowedStream):
    """A windowed stream whose large history windows go through bulk operations.

    Up to ``max_concurrency`` operations run at once for the next pending months; each
    operation's id is kept in state (``windows.bulk``) so a restarted run picks it up. A
    failed operation's window is split in halves and retried; where a root line is a
    whole record (no children), the failure's partial data is used and not fetched again.
    """

    #: The access scope the stream's queries need (named when a bulk operation is denied access).
    required_scope = "read_orders"
    #: Child GID type -> parent field, for joining the JSONL lines.
    bulk_children: t.ClassVar[dict[str, str]] = {}
    #: The query counting a window's root objects (``ordersCount``, ``productsCount`` ...).
    count_query = "orders_count"
    max_split_depth = 3

    @cached_property
    def bulk(self) -> BulkClient:
        """The bulk operations client."""
        return BulkClient(self)

    def window_count(self, window: Window) -> int:
        """Shopify's count of the root objects in ``window`` (memoised per run).

        Where Shopify refuses the count (an API version without it, or an emulator), the
        window counts as 0: it is paged, which is always correct, only slower.
        """
        if window not in self._counts:
            try:
                data = self.graphql(self.count_query, {"query": window.search(self.filter_field)})
            except errors.MerchantActionError:
                raise
            except FatalAPIError as exc:
                if "count" not in self._warned:
                    self._warned.add("count")
                    self.logger.warning(
                        "%s: Shopify cannot count a window (%s); paging, no bulk operations", self.name, exc
                    )
                data = {}
            self._counts[window] = int(dig(next(iter(data.values()), None), "count") or 0)
        return self._counts[window]

    @cached_property
    def _counts(self) -> dict[Window, int]:
        return {}

    @override
    def prepare_history(self, windows: list[Window]) -> None:
        threshold = self.settings.bulk_threshold
        if not threshold:
            return
        in_flight: dict[str, str] = self.stream_state["windows"].setdefault("bulk", {})
        for window in windows[: self.settings.max_concurrency]:
            if len(in_flight) >= self.settings.max_concurrency:
                break
            if window.key in in_flight or self.window_count(window) < threshold:
                continue
            in_flight[t.cast("str", window.key)] = self.bulk.submit(
                bulk_query_text(self.name, window.search(self.filter_field))
            )
            self.logger.info("%s: bulk operation started for %s (%d running)", self.name, window, len(in_flight))
        self._checkpoint()

    @override
    def fetch_live(self, window: Window) -> t.Generator[dict[str, t.Any], None, str | None]:
        threshold = self.settings.bulk_threshold
        if threshold and self.window_count(window) >= threshold:  # e.g. a first sync of a busy shop
            return (yield from self.fetch_bulk(window, None, depth=0, skip=set()))
        return (yield from self.fetch_window(window))

    @override
    def fetch_history(self, window: Window) -> t.Generator[dict[str, t.Any], None, str | None]:
        in_flight: dict[str, str] = self.stream_state["windows"].get("bulk", {})
        operation_id = in_flight.get(t.cast("str", window.key))
        if operation_id is None:
            return (yield from self.fetch_window(window))
        try:
            return (yield from self.fetch_bulk(window, operation_id, depth=0, skip=set()))
        finally:
            in_flight.pop(t.cast("str", window.key), None)

    def fetch_bulk(
        self, window: Window, operation_id: str | None, depth: int, skip: set[str], *, resubmitted: bool = False
    ) -> t.Generator[dict[str, t.Any], None, str | None]:
        """Run (or pick up) a bulk operation for ``window``; split and retry on failure."""
        if operation_id is None:
            operation_id = self.bulk.submit(bulk_query_text(self.name, window.search(self.filter_field)))
        operation = self.bulk.wait(operation_id)
        if operation.get("status") == "COMPLETED":
            if not operation.get("url"):  # no objects matched
                return None
            joined = joined_nodes(self.bulk.lines(operation["url"]), self.bulk_children)
            nodes = self.completed_bulk(self.fresh(joined, skip))
            try:
                # The whole file is read before the first record is emitted, so a failed
                # download emits nothing and the window can simply be asked for again.
                return (yield from self.emit_nodes(nodes, window, "bulk"))
            except BulkResultUnavailableError:
                operation = {**operation, "status": "EXPIRED"}
        if operation.get("status") == "EXPIRED" and not resubmitted:
            self.logger.warning("%s: bulk result for %s expired; running the operation again", self.name, window)
            return (yield from self.fetch_bulk(window, None, depth, skip, resubmitted=True))
        if operation.get("errorCode") == "ACCESS_DENIED":
            # Shopify names no scope here: the stream's own scope is the one its query needs.
            denied = {"message": f"Required access: `{self.required_scope}` access scope.", "path": [self.name]}
            raise errors.access_denied([denied])
        self.logger.warning(
            "%s: bulk operation for %s ended %s (%s); splitting the window and retrying",
            self.name,
            window,
            operation.get("status"),
            operation.get("errorCode"),
        )
        latest = None
        if operation.get("partialDataUrl") and not self.bulk_children:

            def remembered(nodes: t.Iterable[Node]) -> t.Iterator[Node]:
                for node in nodes:
                    yield node
                    skip.add(str(node["id"]))  # after it was emitted

            partial = joined_nodes(self.bulk.lines(operation["partialDataUrl"]), {})
            latest = yield from self.emit_nodes(remembered(self.fresh(partial, skip)), window, "partial bulk data")
        halves = window.split()
        if halves is None or depth >= self.max_split_depth:
            later = yield from self.fetch_window(window, skip)
            return max((v for v in (latest, later) if v), key=parse_iso, default=None)
        for half in halves:
            later = yield from self.fetch_bulk(half, None, depth + 1, skip)
            latest = max((v for v in (latest, later) if v), key=parse_iso, default=None)
        return latest

    def completed_bulk(self, nodes: t.Iterable[Node]) -> t.Iterable[Node]:
        """Nodes from bulk JSONL, completed with what a bulk query cannot fetch."""
        return nodes
