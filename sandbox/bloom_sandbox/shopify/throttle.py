"""Shopify's leaky bucket of query cost points, one per shop."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

RESTORE_RATES = {"standard": 100.0, "advanced": 200.0, "plus": 1000.0, "enterprise": 2000.0}
BUCKET_FACTOR = 20  # observed: the bucket holds 20 seconds of restore


class LeakyBucket:
    """Points available to one app on one shop; refills at ``restore_rate`` per second."""

    def __init__(self, restore_rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.restore_rate = restore_rate
        self.maximum = restore_rate * BUCKET_FACTOR
        self._available = self.maximum
        self._clock = clock
        self._at = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._available = min(self.maximum, self._available + (now - self._at) * self.restore_rate)
        self._at = now

    def take(self, points: int) -> bool:
        """Spend ``points`` if that many are available now; False (nothing spent) otherwise."""
        with self._lock:
            self._refill()
            if points > self._available:
                return False
            self._available -= points
            return True

    def give_back(self, points: float) -> None:
        """Return points requested but not used (requested minus actual cost)."""
        with self._lock:
            self._refill()
            self._available = min(self.maximum, self._available + max(0.0, points))

    def status(self) -> dict[str, float]:
        """``throttleStatus`` as Shopify reports it."""
        with self._lock:
            self._refill()
            return {
                "maximumAvailable": float(self.maximum),
                "currentlyAvailable": int(self._available),
                "restoreRate": float(self.restore_rate),
            }
