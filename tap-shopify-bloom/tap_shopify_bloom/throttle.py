"""Shopify's leaky bucket of query cost points, as the tap sees it.

Shopify reports the bucket with every answer (``extensions.cost.throttleStatus``). The
tap keeps one :class:`CostBucket` per store, waits before each query exactly as long as
the bucket needs to hold the query's expected cost, and sizes pages so that one page
requests no more than a fair share of the bucket.
"""

from __future__ import annotations

import math
import threading
import time
import typing as t
from dataclasses import dataclass, field

MAX_QUERY_COST = 1000  # Shopify refuses a single query requesting more


@dataclass
class CostBucket:
    """The shop's bucket of points, refilled at ``restore_rate`` per second."""

    maximum: float = 1000.0  # until the first answer says otherwise
    available: float = 1000.0
    restore_rate: float = 50.0
    observed_at: float = field(default_factory=time.monotonic)
    points_spent: float = 0.0
    throttled: int = 0
    waited_seconds: float = 0.0
    clock: t.Callable[[], float] = time.monotonic
    sleep: t.Callable[[float], None] = time.sleep
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _available_now(self, now: float) -> float:
        return min(self.maximum, self.available + (now - self.observed_at) * self.restore_rate)

    #: The least wait after a THROTTLED answer, when the bucket Shopify reported with it
    #: already holds the query's points (Shopify's view and the tap's disagree): no hot loop.
    throttled_pause: float = 0.5
    _pause: float = field(default=0.0, init=False, repr=False)

    def delay_for(self, cost: float) -> float:
        """The seconds :meth:`wait_for` would wait now for ``cost`` points."""
        missing = min(cost, self.maximum) - self._available_now(self.clock())
        return max(missing / self.restore_rate, self._pause, 0.0)

    def wait_for(self, cost: float) -> float:
        """Block until the bucket holds ``cost`` points; return the seconds waited."""
        with self._lock:
            delay = self.delay_for(cost)
            self._pause = 0.0
            if delay <= 0:
                return 0.0
            self.sleep(delay)
            self.waited_seconds += delay
            return delay

    def refused(self, requested: float | None) -> None:
        """Shopify answered THROTTLED to a query requesting ``requested`` points (after :meth:`observe`).

        The next wait is for the points the bucket lacks; if it lacks none by the answer's own
        level, ``throttled_pause``.
        """
        with self._lock:
            self.throttled += 1
            if requested is None or self._available_now(self.clock()) >= min(float(requested), self.maximum):
                self._pause = self.throttled_pause

    def observe(self, cost_block: t.Mapping[str, t.Any] | None) -> None:
        """Take the bucket's level from an answer's ``extensions.cost``."""
        if not cost_block:
            return
        status = cost_block.get("throttleStatus") or {}
        with self._lock:
            if status:
                self.maximum = float(status.get("maximumAvailable", self.maximum))
                self.available = float(status.get("currentlyAvailable", self.available))
                self.restore_rate = float(status.get("restoreRate", self.restore_rate)) or 1.0
                self.observed_at = self.clock()
            actual = cost_block.get("actualQueryCost")
            if actual is not None:
                self.points_spent += float(actual)


def connection_factor(first: int) -> int:
    """How Shopify multiplies a connection's node cost for a page of ``first`` nodes."""
    return max(1, math.floor(2 * math.log(max(first, 1))))


@dataclass
class PageSizer:
    """Adapts ``first`` so that a page requests at most ``budget`` points."""

    size: int
    maximum: int = 250
    budget: float = 500.0
    per_factor: float = 0.0  # requested cost per unit of connection_factor, once known
    priced: tuple[float, int] = (0.0, 1)  # the last requested cost Shopify reported, and its size

    @property
    def expected_cost(self) -> float:
        """The cost the next page is expected to request (50 until Shopify has priced one)."""
        return self.cost_at(self.size) if self.per_factor else 50.0

    def cost_at(self, size: int) -> float:
        """What a page of ``size`` will request, from the last priced page, never too low.

        Shopify prices a page at ``2 + g(first) x node``: scaling the whole price by ``g`` is
        high for a larger page, scaling only the node part is exact for a smaller one.
        """
        cost, used = self.priced
        factor, priced_factor = connection_factor(size), connection_factor(used)
        return max(cost * factor / priced_factor, 2 + (cost - 2) * factor / priced_factor)

    def adapt(self, requested_cost: float | None, used_size: int, bucket_maximum: float) -> int:
        """Resize after Shopify said a page of ``used_size`` nodes requested ``requested_cost``.

        Shrinks until the page fits the budget; grows by one doubling at most per answer, so
        that every size is checked against a real answer before the next.
        """
        if not requested_cost or used_size < 1:
            return self.size
        budget = min(self.budget, bucket_maximum / 2, MAX_QUERY_COST * 0.9)
        self.priced = (float(requested_cost), used_size)
        self.per_factor = requested_cost / connection_factor(used_size)
        size = used_size
        if size < self.maximum and self.cost_at(min(self.maximum, size * 2)) <= budget:
            size = min(self.maximum, size * 2)
        while size > 1 and self.cost_at(size) > budget:
            size = max(1, size // 2)
        self.size = size
        return self.size

    def shrink(self) -> int:
        """Halve the page after Shopify refused it as too expensive."""
        self.size = max(1, self.size // 2)
        return self.size
