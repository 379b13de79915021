"""What both shipping emulators share: the label book, rate limiter, faults and counters."""

from __future__ import annotations

from typing import Any

from bloom_sandbox.shipping.faults import FaultQueue
from bloom_sandbox.shipping.labels import LabelBook
from bloom_sandbox.shipping.ratelimit import FixedWindowLimiter


class ShippingAPIBase:
    """The parts of a shipping emulator that do not depend on its wire format."""

    name: str
    prefix: str

    def __init__(self, book: LabelBook, rate_window_seconds: float = 60.0) -> None:
        self.book = book
        self.limiter = FixedWindowLimiter(rate_window_seconds)
        self.faults = FaultQueue(self.prefix)
        self.counters = {"requests": 0, "throttled": 0, "unauthorized": 0, "faults": 0}
        self.book.shelf(self.name)  # indexed now, not in the first request's time (seconds at 1M orders)

    @property
    def rate_window_seconds(self) -> float:
        """Length of the rate-limit window (60 upstream; tests shorten it)."""
        return self.limiter.window_seconds

    @rate_window_seconds.setter
    def rate_window_seconds(self, value: float) -> None:
        self.limiter.window_seconds = value

    def rate_limited_by_fault(self) -> bool:
        """Whether an injected ``rate_limited`` fault takes this request."""
        if self.faults.take():
            self.counters["faults"] += 1
            return True
        return False

    def truth(self) -> dict[str, Any]:
        """Label counts, voids and non-voided costs per order, from the generator."""
        return self.book.truth(self.name)

    def stats(self) -> dict[str, Any]:
        """Request counters, including throttled (429) answers."""
        return dict(self.counters)

    def advance(self, days: int) -> None:
        """Index the labels at the new clock time (labels and voids follow the store's clock)."""
        self.book.shelf(self.name)

    def set_faults(self, faults: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Take ``{"type": "rate_limited", "path": <this prefix>, "count": N}`` faults."""
        return self.faults.set(faults)
