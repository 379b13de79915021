"""Client-side rate limiting, shared by every stream that uses one account.

ShipStation reports its budget in ``X-Rate-Limit-Remaining`` / ``X-Rate-Limit-Reset``
(seconds): when the budget is spent, the next request waits for the window to restart.
Shippo sends no budget headers, so its requests are spaced evenly at the documented
requests per minute. A 429 (another client sharing the key) is retried by the SDK after
the wait the answer names.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import requests


def header_seconds(response: requests.Response) -> float | None:
    """The wait a response asks for: ``Retry-After`` or ShipStation's ``X-Rate-Limit-Reset``."""
    for name in ("Retry-After", "X-Rate-Limit-Reset"):
        value = response.headers.get(name)
        if value is not None:
            try:
                return max(0.0, float(value))
            except ValueError:
                continue
    return None


class RateGate:
    """Decides how long to wait before each request to one account."""

    def __init__(self, *, min_interval: float = 0.0, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.min_interval = min_interval
        self._clock, self._sleep = clock, sleep
        self._remaining: int | None = None
        self._reset_at = 0.0
        self._last_request = -float("inf")
        self._lock = threading.Lock()
        self.waited_seconds = 0.0

    def before_request(self) -> None:
        """Sleep until a request fits the budget (header budget and even spacing)."""
        with self._lock:
            now = self._clock()
            wait = max(0.0, self._last_request + self.min_interval - now)
            if self._remaining is not None and self._remaining <= 0:
                wait = max(wait, self._reset_at - now)
            if wait > 0:
                self.waited_seconds += wait
                self._sleep(wait)
            self._last_request = self._clock()
            if self._remaining is not None and self._remaining <= 0 and self._last_request >= self._reset_at:
                self._remaining = None

    def observe(self, response: requests.Response) -> None:
        """Record the budget a ShipStation answer reports (no-op without the headers)."""
        remaining = response.headers.get("X-Rate-Limit-Remaining")
        reset = response.headers.get("X-Rate-Limit-Reset")
        if remaining is None or reset is None:
            return
        with self._lock:
            try:
                self._remaining = int(remaining)
                # The reset is whole seconds, rounded: a small margin keeps us past it.
                self._reset_at = self._clock() + float(reset) + 0.05
            except ValueError:
                self._remaining = None
