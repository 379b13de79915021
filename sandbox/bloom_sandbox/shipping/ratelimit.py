"""Fixed-window request limits per credential, as both shipping APIs apply them."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass


@dataclass
class Verdict:
    """The outcome of counting one request against a window."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # whole seconds until the window restarts (rounded up)


class FixedWindowLimiter:
    """``limit`` requests per ``window_seconds`` per key; the window starts at a key's first request."""

    def __init__(self, window_seconds: float = 60.0) -> None:
        self.window_seconds = window_seconds
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int) -> Verdict:
        """Count one request for ``key``; refused requests count too, as they do upstream."""
        with self._lock:
            now = time.monotonic()
            started, used = self._windows.get(key, (now, 0))
            if now - started >= self.window_seconds:
                started, used = now, 0
            used += 1
            self._windows[key] = (started, used)
            reset = max(0, math.ceil(started + self.window_seconds - now))
            return Verdict(allowed=used <= limit, limit=limit, remaining=max(0, limit - used), reset_seconds=reset)
