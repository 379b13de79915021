"""The contract between the sandbox server and each emulated API.

The server (``server.py``) owns the socket, the control endpoints under ``/_sandbox``
and the generic faults; each emulated API is a :class:`SandboxAPI` mounted under its
own path prefix and registered in ``registry.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass
class Request:
    """One HTTP request, already read whole from the socket."""

    method: str
    path: str  # without the query string, with the API's prefix
    query: dict[str, list[str]]
    headers: dict[str, str]  # keys lower-cased
    body: bytes = b""

    def json(self) -> Any:
        """The body parsed as JSON (raises ValueError on malformed JSON)."""
        return json.loads(self.body or b"null")

    def param(self, name: str, default: str | None = None) -> str | None:
        """The first value of a query-string parameter."""
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Response:
    """One HTTP response; ``body`` is sent as is, or the file at ``file`` is streamed instead."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    file: Path | None = None  # large bodies (bulk results): streamed from disk by the server

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        """A JSON response."""
        return cls(
            status=status,
            body=json.dumps(payload, separators=(",", ":"), default=str).encode(),
            headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
        )


class SandboxAPI(Protocol):
    """One emulated API, served under ``prefix``."""

    name: str  # key of its block in /_sandbox/truth and /_sandbox/stats
    prefix: str  # e.g. "/admin", "/meta", "/shipstation"

    def handle(self, request: Request) -> Response:
        """Answer a request whose path starts with ``prefix``."""
        ...

    def truth(self) -> dict[str, Any]:
        """Ground truth of what this API serves, computed from the world, not from served data."""
        ...

    def stats(self) -> dict[str, Any]:
        """Counters for /_sandbox/stats."""
        ...

    def advance(self, days: int) -> None:
        """React after the world's clock moved forward (the store has already advanced)."""
        ...

    def set_faults(self, faults: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Take the faults this API understands; return the ones it does not."""
        ...


class Closing(Protocol):
    """Optional: an API that holds resources (files) to release when the server closes."""

    def close(self) -> None:
        """Release them."""
        ...


class ErrorBodies(Protocol):
    """Optional: an API that knows its documented error bodies for the server's generic faults."""

    def error_body(self, status: int) -> Response:
        """The API's own answer with HTTP ``status`` (500, 502, 503, ...)."""
        ...
