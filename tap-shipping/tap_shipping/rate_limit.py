"""Client-side rate limiting, shared by every stream that uses one account.

ShipStation reports its budget in ``X-Rate-Limit-Remaining`` / ``X-Rate-Limit-Reset``
(seconds): when the budget is spent, the next request waits for the window to restart.
Shippo sends no budget headers, so its requests keep to the documented requests per minute
over any rolling minute: a short run (the first 7 days, a daily run) sends its few dozen list
requests at once instead of one every 1.2 s, and a long one settles at the same pace. A budget
held over every rolling minute also holds over any fixed minute, however the API counts;
``shippo_burst`` 1 spaces the requests evenly instead. A 429 (another client sharing the key)
is retried by the SDK after the wait the answer names.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

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


WINDOW_MARGIN = 1.02  # each window a little longer: the API's clock starts when a request arrives


class RateGate:
    """Decides how long to wait before each request to one account."""

    def __init__(
        self,
        *,
        budget: int | None = None,
        window: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """At most ``budget`` requests in any ``window`` seconds (None: only the answers' headers count)."""
        self.budget, self.window = budget, window
        self._clock, self._sleep = clock, sleep
        self._remaining: int | None = None
        self._reset_at = 0.0
        self._sent: deque[float] = deque(maxlen=budget)  # the start times of the last ``budget`` requests
        self._lock = threading.Lock()
        self.waited_seconds = 0.0

    @classmethod
    def per_minute(cls, rate: float, burst: int | None = None, **kwargs: Any) -> RateGate:
        """``rate`` requests a minute, at most ``burst`` at once (default and most: a minute's worth; 1: evenly)."""
        minute = max(1, math.floor(rate))
        budget = min(burst, minute) if burst else minute
        return cls(budget=budget, window=60.0 * budget / rate, **kwargs)

    def before_request(self) -> None:
        """Sleep until a request fits the budget (header budget and the rolling window)."""
        with self._lock:
            now = self._clock()
            wait = 0.0
            if self.budget and len(self._sent) >= self.budget:
                wait = self._sent[0] + self.window * WINDOW_MARGIN - now
            if self._remaining is not None and self._remaining <= 0:
                wait = max(wait, self._reset_at - now)
            if wait > 0:
                self.waited_seconds += wait
                self._sleep(wait)
            sent = self._clock()
            if self.budget:
                self._sent.append(sent)
            if self._remaining is not None and self._remaining <= 0 and sent >= self._reset_at:
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
