"""Generic injected faults: the ones the server applies to requests of any API.

A fault is a JSON object (format in sandbox/README.md)::

    {"type": "http_error", "status": 503, "path": "/admin", "count": 2}

``type`` is one of :data:`GENERIC_TYPES` here; any other type is offered to the APIs
(e.g. Shopify's ``throttled``). ``path`` is a path prefix (default: every API request),
``method`` an optional HTTP method, ``count`` how many matching requests it hits (default 1)
and ``always: true`` keeps it until the faults are cleared.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

GENERIC_TYPES = ("http_error", "slow", "reset", "truncate")
HTTP_ERROR_STATUSES = (500, 502, 503, 504)


class FaultError(ValueError):
    """A fault description that cannot be used (the message says which and why)."""


@dataclass
class Fault:
    """One active generic fault."""

    type: str
    path: str = "/"
    method: str | None = None
    remaining: int | None = 1  # None: until cleared
    status: int = 503
    seconds: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        """Whether a request is in this fault's scope."""
        if self.method and self.method.upper() != method.upper():
            return False
        return path.startswith(self.path)

    def describe(self) -> dict[str, Any]:
        """The fault as JSON (for GET /_sandbox/faults)."""
        out: dict[str, Any] = {"type": self.type, "path": self.path, "remaining": self.remaining}
        if self.method:
            out["method"] = self.method
        if self.type == "http_error":
            out["status"] = self.status
        if self.type == "slow":
            out["seconds"] = self.seconds
        return out


def parse_count(spec: dict[str, Any]) -> int | None:
    """The ``count``/``always`` of a fault description: None means until cleared."""
    if spec.get("always") is True:
        return None
    count = spec.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise FaultError(f"fault {spec!r}: 'count' must be an integer >= 1 (or use \"always\": true)")
    return count


def parse_fault(spec: dict[str, Any]) -> Fault:
    """Build a generic :class:`Fault` from its JSON description (raises FaultError)."""
    kind = spec.get("type")
    path = spec.get("path", "/")
    if not isinstance(path, str) or not path.startswith("/"):
        raise FaultError(f"fault {spec!r}: 'path' must be a path prefix starting with '/'")
    fault = Fault(type=str(kind), path=path, method=spec.get("method"), remaining=parse_count(spec))
    if kind == "http_error":
        status = spec.get("status", 503)
        if status not in HTTP_ERROR_STATUSES:
            raise FaultError(f"fault {spec!r}: 'status' must be one of {HTTP_ERROR_STATUSES}")
        fault.status = status
    elif kind == "slow":
        seconds = spec.get("seconds")
        if not isinstance(seconds, int | float) or not 0 < seconds <= 300:
            raise FaultError(f"fault {spec!r}: 'seconds' must be a number in (0, 300]")
        fault.seconds = float(seconds)
    return fault


class FaultBoard:
    """The active generic faults, consumed by matching requests (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.injected = 0

    def replace(self, faults: list[Fault]) -> None:
        with self._lock:
            self._faults = list(faults)

    def take(self, method: str, path: str) -> Fault | None:
        """The first active fault matching the request, counting it as used."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining <= 0:
                            self._faults.remove(fault)
                    self.injected += 1
                    return fault
        return None

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.describe() for f in self._faults]
