"""The shipping APIs' own fault: a rate-limit answer on demand.

``{"type": "rate_limited", "path": "/shipstation", "count": 2}`` makes the next ``count``
authenticated requests under that prefix answer 429 exactly as the API's rate limit does
(headers included). HTTP errors, slow answers and resets are the server's generic faults;
``error_body`` gives them each API's own error format.
"""

from __future__ import annotations

import threading
from typing import Any

FAULT_TYPE = "rate_limited"


class FaultQueue:
    """Pending ``rate_limited`` faults for one API."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._pending = 0
        self._lock = threading.Lock()

    def _mine(self, spec: dict[str, Any]) -> bool:
        return spec.get("type") == FAULT_TYPE and str(spec.get("path", "")).startswith(self.prefix)

    def set(self, faults: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Replace the pending faults with this API's; return the others.

        Raises:
            ValueError: if a fault of this API has a bad ``count``.
        """
        count = 0
        for spec in filter(self._mine, faults):
            value = spec.get("count", 1)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"fault {spec!r}: 'count' must be an integer >= 1")
            count += value
        with self._lock:
            self._pending = count
        return [spec for spec in faults if not self._mine(spec)]

    def take(self) -> bool:
        """Whether the current request must be answered as rate limited."""
        with self._lock:
            if self._pending:
                self._pending -= 1
                return True
            return False
