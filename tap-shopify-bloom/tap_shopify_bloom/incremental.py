"""The incremental base streams: time windows paged, and large windows by bulk operation."""

from __future__ import annotations

import typing as t
from datetime import UTC, datetime, timedelta
from functools import cached_property

from singer_sdk.exceptions import FatalAPIError
from typing_extensions import override

from tap_shopify_bloom import errors, records
from tap_shopify_bloom.bulk import BulkClient, BulkResultUnavailableError, bulk_query_text, joined_nodes
from tap_shopify_bloom.client import ShopifyStream
from tap_shopify_bloom.records import Node, dig
from tap_shopify_bloom.windows import Window, WindowPlan, history_line, is_iso, iso, parse_iso

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class WindowedStream(ShopifyStream):
    """An incremental stream read in time windows of a search filter.

    A run fetches the live window (everything since the stream's cursor; on the first
    run the last ``initial_window_days``, or everything for a stream read ``whole_first``)
    and then, unless the ``backfill`` setting is false, newest first, the monthly history
    windows still pending, recording each finished one in state (see ``windows.py``).
    """

    #: Search field of the time windows, e.g. ``updated_at``.
    filter_field: str = "updated_at"
    #: The node's GraphQL field holding the filter field's value.
    cursor_field: str = "updatedAt"
    #: Re-read this much before the cursor (for records that change after their time).
    lookback: timedelta = timedelta(0)
    #: Reach back before ``start_date`` in the oldest history window (for dimensions such as
    #: customers, whose old rows later orders still need).
    history_before_start_date = False
    #: Read everything on the first run, in the live window (no history behind it): for the
    #: catalog, whose unit costs the first days' orders need.
    whole_first = False
    is_sorted = False
    records_so_far = 0
    #: Set while the shop stream runs this stream's first live window ahead of all history.
    live_only = False

    @cached_property
    def seen_live(self) -> dict[str, str]:
        """Node id -> cursor value of what the early live window emitted (not emitted again)."""
        return {}

    #: Nested lists whose items the stream fetches more of by their ``id`` (checked with the node).
    keyed_children: t.ClassVar[tuple[str, ...]] = ()
    #: What :meth:`emit_nodes` is reading (named in an error about a record).
    reading = ""

    @override
    def whereabouts(self) -> str:
        return self.reading or super().whereabouts()

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
            whole=self.whole_first,
        )
        self._checkpoint()
        self.log_history(plan)
        latest = yield from self.fetch_live(live)
        plan.finish_live(latest, live)
        self._checkpoint()
        if self.live_only:
            return
        pending = plan.pending_history()
        if pending and not settings.backfill:
            self.logger.info(
                "%s: history [%s, %s) left pending (%d months): `backfill` is false; the next run "
                "with `backfill` true fetches it",
                self.name,
                iso(pending[-1].start) if pending[-1].start else "beginning",
                iso(t.cast("datetime", pending[0].end)),
                len(pending),
            )
            return
        for index, window in enumerate(pending):
            self.prepare_history(pending[index:])
            yield from self.fetch_history(window)
            plan.finish_month(t.cast("str", window.key))
            self._checkpoint()
            self.log_history(plan)

    def log_history(self, plan: WindowPlan) -> None:
        """Log the ``HISTORY:`` line of what history is pending (not while the shop stream runs the live
        window ahead, nor for a stream read whole, which has no history)."""
        if not self.live_only and not self.whole_first:
            self.logger.info("%s", history_line(self.name, self.settings.store, plan))

    def announce_history(self) -> None:
        """Log the ``HISTORY:`` line of the history this stream's state owes, before its sync (none
        before its first sync, nor for a stream read whole)."""
        state = self.stream_state.get("windows")
        if state is not None and not self.whole_first:
            plan = WindowPlan(state, open_start=self.history_before_start_date)
            self.logger.info("%s", history_line(self.name, self.settings.store, plan))

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
        pages = self.request_records({"search": window.search(self.filter_field)})
        nodes = self.fresh(self.checked(pages, window, "pages"), skip)
        return (yield from self.emit_nodes(self.completed(nodes), window, "pages"))

    def checked(self, nodes: t.Iterable[Node], window: Window, how: str) -> t.Iterator[Node]:
        """``nodes`` as they come, each checked for what syncing it relies on.

        That is its key ``id`` and its cursor value, an ISO 8601 time. A node without them
        stops the run with one line naming the stream and the node: its id or, lacking one,
        its position in the window and the id next to it. Nothing of the window is in state
        yet, so the next run fetches the window again.
        """
        previous: str | None = None
        remaining = iter(nodes)
        for position, node in enumerate(remaining, start=1):
            node_id = node.get("id")
            where = f"record {position} of window {window} by {how}"
            if not isinstance(node_id, str) or not node_id:
                following = next(remaining, None)
                if previous:
                    where += f", after {previous}"
                elif following is not None and isinstance(following.get("id"), str):
                    where += f", before {following['id']}"
                problem = "no key `id`" if node_id is None else f"its key `id` is {errors.shown(node_id)}"
                raise errors.bad_record(self.name, problem, where)
            value = node.get(self.cursor_field)
            if not is_iso(value):
                problem = f"{node_id} has `{self.cursor_field}` {errors.shown(value)}, not an ISO 8601 time"
                raise errors.bad_record(self.name, problem, where)
            for field in self.keyed_children:
                if not all(isinstance(child.get("id"), str) for child in records.nodes(node.get(field))):
                    problem = f"{node_id} has one of its `{field}` without its key `id`"
                    raise errors.bad_record(self.name, problem, where)
            previous = node_id
            yield node

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
        self.reading = f"window {window} by {how}"
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

    #: Streams of the same windows whose bulk operations this one starts ahead in free slots.
    bulk_companions: t.ClassVar[tuple[str, ...]] = ()
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
        limit = self.settings.max_concurrency
        in_flight: dict[str, str] = self.stream_state["windows"].setdefault("bulk", {})
        for window in windows[:limit]:
            if self.bulk_in_flight() >= limit:
                break
            if window.key in in_flight or self.window_count(window) < threshold:
                continue
            in_flight[t.cast("str", window.key)] = self.bulk.submit(
                bulk_query_text(self.name, window.search(self.filter_field))
            )
            self.logger.info("%s: bulk operation started for %s (%d running)", self.name, window, self.bulk_in_flight())
        for companion in self.companions():  # slots this stream leaves free
            companion.start_ahead()
        self._checkpoint()

    def bulk_in_flight(self) -> int:
        """Bulk operations recorded in flight by the selected streams (the shop's limit is shared)."""
        bookmarks = self.tap_state.get("bookmarks") or {}
        selected = [name for name, stream in self.owner.streams.items() if stream.selected]
        return sum(len((bookmarks.get(name) or {}).get("windows", {}).get("bulk") or {}) for name in selected)

    def companions(self) -> list[BulkWindowedStream]:
        """The selected streams of ``bulk_companions``."""
        streams = (self.owner.streams.get(name) for name in self.bulk_companions)
        return [s for s in streams if isinstance(s, BulkWindowedStream) and s.selected]

    def start_ahead(self) -> None:
        """Start operations for this stream's next pending months while another stream runs.

        Its run later finds them in its state and picks them up. Only once its backfill plan
        exists (after its first live window).
        """
        state = self.stream_state.get("windows") or {}
        if "backfill" in state:
            self.prepare_history(WindowPlan(state, self.history_before_start_date).pending_history())

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
            nodes = self.completed_bulk(self.fresh(self.checked(joined, window, "bulk"), skip))
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

            partial = self.checked(joined_nodes(self.bulk.lines(operation["partialDataUrl"]), {}), window, "bulk")
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
