"""Shippo ``GET /transactions`` (labels) and ``GET /refunds`` under ``/shippo``.

Auth header ``Authorization: ShippoToken <token>``. Lists are newest first, paged with
``page``/``results`` (at most 100) and absolute ``next``/``previous`` URLs; a page past
the end is 404 ``Invalid page.``. There is no date filter on these lists. Limits per
minute and token as Shippo documents them: GET multiple 50 live / 10 test, GET single
4000 live / 400 test; past them 429 with ``Retry-After`` and ``X-RateLimit-Reset``.
A voided label has status ``REFUNDED`` and a ``SUCCESS`` refund created when it was voided.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from bloom_sandbox.api import Request, Response
from bloom_sandbox.shipping.base import ShippingAPIBase
from bloom_sandbox.shipping.labels import SHIPPO_OWNER, Label, LabelBook, hex_id, service_token, shippo_buyer, slug
from bloom_sandbox.shipping.timefmt import shippo_time

API_TOKEN = "shippo_test_sandbox"  # noqa: S105 - demo credentials of the local sandbox: test mode,
LIVE_API_TOKEN = "shippo_live_sandbox"  # noqa: S105 - and live mode (objects not marked test, higher limits)
LIMITS = {("list", True): 10, ("list", False): 50, ("single", True): 400, ("single", False): 4000}
DEFAULT_RESULTS = 25
MAX_RESULTS = 100
FILTERS = ("object_status", "tracking_status", "rate")  # the transactions list's documented filters


class _NewestFirst(Sequence[Label]):
    """A list of labels, oldest first, read newest first without copying it."""

    def __init__(self, labels: list[Label]) -> None:
        self.labels = labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int | slice) -> Any:  # a label, or a list of them for a slice
        if isinstance(index, slice):
            return [self.labels[-1 - i] for i in range(*index.indices(len(self.labels)))]
        return self.labels[-1 - index]


class ShippoAPI(ShippingAPIBase):
    """The Shippo emulator (one account)."""

    name = "shippo"
    prefix = "/shippo"

    def __init__(self, book: LabelBook, rate_window_seconds: float = 60.0) -> None:
        super().__init__(book, rate_window_seconds)
        self.tokens = {API_TOKEN, LIVE_API_TOKEN}
        self.limits = dict(LIMITS)  # requests per window by (list|single, test token?); tests may lower them

    def handle(self, request: Request) -> Response:
        """Authenticate, count against the rate limit, then route."""
        self.counters["requests"] += 1
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if not scheme:
            self.counters["unauthorized"] += 1
            return self._unauthorized("Authentication credentials were not provided.")
        if scheme != "ShippoToken" or token not in self.tokens:
            self.counters["unauthorized"] += 1
            return self._unauthorized("Invalid token.")
        parts = [p for p in request.path.removeprefix(self.prefix).split("/") if p]
        if request.method != "GET" or not parts or parts[0] not in {"transactions", "refunds"} or len(parts) > 2:
            return Response.json({"detail": "Not found."}, status=404)
        kind = "single" if len(parts) == 2 else "list"
        verdict = self.limiter.hit(f"{token}:{parts[0]}:{kind}", self.limits[kind, token.startswith("shippo_test_")])
        if self.rate_limited_by_fault():
            verdict.allowed = False
        if not verdict.allowed:
            self.counters["throttled"] += 1
            wait = max(1, verdict.reset_seconds)
            return Response.json(
                {"detail": f"Request was throttled. Expected available in {wait} seconds."},
                status=429,
                headers={"Retry-After": str(wait), "X-RateLimit-Reset": str(int(time.time()) + wait)},
            )
        test = token.startswith("shippo_test_")
        now = self.book.store.now
        if kind == "single":
            return self._single(parts[0], parts[1], now, test)
        shelf = self.book.shelf(self.name)
        if parts[0] == "refunds":
            return self._page(request, shelf.voided, lambda lb: self._refund(lb, test))
        if any(request.param(name) is not None for name in FILTERS):
            labels: Sequence[Label] = [lb for lb in reversed(shelf.labels) if self._matches(lb, request, now)]
        else:
            labels = _NewestFirst(shelf.labels)
        return self._page(request, labels, lambda lb: self._transaction(lb, now, test))

    @staticmethod
    def error_body(status: int) -> Response:
        """Shippo's answer to a server error."""
        return Response.json({"detail": "A server error occurred."}, status=status)

    @staticmethod
    def _unauthorized(detail: str) -> Response:
        return Response.json({"detail": detail}, status=401, headers={"WWW-Authenticate": "ShippoToken"})

    def _single(self, collection: str, object_id: str, now: datetime, test: bool) -> Response:
        shelf = self.book.shelf(self.name)
        if collection == "transactions" and (label := shelf.by_id.get(object_id)):
            return Response.json(self._transaction(label, now, test))
        if collection == "refunds" and (label := shelf.by_refund_id.get(object_id)):
            return Response.json(self._refund(label, test))
        return Response.json({"detail": "Not found."}, status=404)

    @staticmethod
    def _matches(label: Label, request: Request, now: datetime) -> bool:
        """The list filters Shippo documents: object_status, tracking_status, rate."""
        voided = label.voided_by(now)
        wanted = {
            "object_status": lambda: "REFUNDED" if voided else "SUCCESS",
            "tracking_status": lambda: "UNKNOWN" if voided else "DELIVERED",
            "rate": lambda: hex_id("rate", label.label_id),
        }
        return all((asked := request.param(name)) is None or asked == value() for name, value in wanted.items())

    def _page(self, request: Request, items: Sequence[Label], render: Callable[[Label], dict[str, Any]]) -> Response:
        """One page of ``items`` (rendered only for that page), with Shippo's absolute links."""
        try:
            page = int(request.param("page", "1") or 1)
            size = min(int(request.param("results", str(DEFAULT_RESULTS)) or DEFAULT_RESULTS), MAX_RESULTS)
        except ValueError:
            return Response.json({"detail": "Invalid page."}, status=404)
        if page < 1 or size < 1 or (page > 1 and (page - 1) * size >= len(items)):
            return Response.json({"detail": "Invalid page."}, status=404)
        base = f"http://{request.headers.get('host', 'localhost')}{request.path}"
        extra = [(k, v) for k, vs in request.query.items() if k not in {"page", "results"} for v in vs]

        def link(number: int) -> str:
            return f"{base}?{urlencode([*extra, ('page', number), ('results', size)])}"

        return Response.json(
            {
                "next": link(page + 1) if page * size < len(items) else None,
                "previous": link(page - 1) if page > 1 else None,
                "results": [render(item) for item in items[(page - 1) * size : page * size]],
            }
        )

    def _transaction(self, label: Label, now: datetime, test: bool) -> dict[str, Any]:
        voided = label.voided_by(now)
        token = service_token(slug(label.carrier), label.service)
        updated = label.voided_at if voided and label.voided_at else label.created_at
        buyer = shippo_buyer(label)
        created_by = dict(zip(("first_name", "last_name", "username"), buyer, strict=True)) if buyer else None
        return {
            "object_state": "VALID",
            "status": "REFUNDED" if voided else "SUCCESS",
            "object_created": shippo_time(label.created_at),
            "object_updated": shippo_time(updated),
            "object_id": label.label_id,
            "object_owner": SHIPPO_OWNER,
            "test": test,
            "rate": {
                "object_id": hex_id("rate", label.label_id),
                "amount": str(label.cost),
                "currency": label.currency,
                "amount_local": str(label.cost),
                "currency_local": label.currency,
                "provider": label.carrier,
                "carrier_account": hex_id("carrier", label.carrier),
                "servicelevel_name": label.service,
                "servicelevel_token": token,
            },
            "tracking_number": label.tracking_number,
            "tracking_status": "UNKNOWN" if voided else "DELIVERED",
            "eta": None,
            "tracking_url_provider": f"https://tracking.sandbox.example/{label.tracking_number}",
            "label_url": f"https://deliver.sandbox.example/{label.label_id}.pdf",
            "commercial_invoice_url": None,
            "messages": [],
            "metadata": label.order_ref,
            "parcel": hex_id("parcel", label.label_id),
            "qr_code_url": None,
            "created_by": created_by,
            "label_file_type": "PDF_4x6",
        }

    @staticmethod
    def _refund(label: Label, test: bool) -> dict[str, Any]:
        voided_at = label.voided_at or label.created_at
        return {
            "object_created": shippo_time(voided_at),
            "object_id": hex_id("refund", label.label_id),
            "object_owner": SHIPPO_OWNER,
            "object_updated": shippo_time(voided_at),
            "status": "SUCCESS",
            "test": test,
            "transaction": label.label_id,
        }
