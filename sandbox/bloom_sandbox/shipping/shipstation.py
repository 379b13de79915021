"""ShipStation API v1 ``GET /shipments`` under ``/shipstation``.

Basic auth with the account's API key and secret; 40 requests per minute per key with
``X-Rate-Limit-Limit``, ``X-Rate-Limit-Remaining`` and ``X-Rate-Limit-Reset`` (seconds)
on every answer and 429 past it. Times are Pacific wall time without an offset, as
ShipStation sends them. Lists are sorted by ascending ``createDate`` unless asked.
"""

from __future__ import annotations

import base64
import binascii
import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bloom_sandbox.api import Request, Response
from bloom_sandbox.shipping.base import ShippingAPIBase
from bloom_sandbox.shipping.labels import PACIFIC, Label, LabelBook, hex_id, service_token, slug
from bloom_sandbox.shipping.timefmt import parse_shipstation_filter, shipstation_time

API_KEY = "ss_sandbox_key"
API_SECRET = "ss_sandbox_secret"  # noqa: S105 - a demo credential of the local sandbox
RATE_LIMIT = 40
MAX_PAGE_SIZE = 500

CARRIER_CODES = {
    "USPS": "stamps_com",
    "UPS": "ups_walleted",
    "FedEx": "fedex",
    "DHL Express": "dhl_express_worldwide",
    "Canada Post": "canada_post",
}
SERVICE_PREFIXES = {"stamps_com": "usps", "ups_walleted": "ups", "dhl_express_worldwide": "dhl_express"}
DATE_FILTERS = {
    "createDateStart": ("created", True),
    "createDateEnd": ("created", False),
    "shipDateStart": ("ship", True),
    "shipDateEnd": ("ship", False),
    "voidDateStart": ("void", True),
    "voidDateEnd": ("void", False),
}
EXACT_FILTERS = ("orderNumber", "trackingNumber", "carrierCode", "serviceCode")  # as in _matches


def carrier_code(label: Label) -> str:
    """ShipStation's carrier code, e.g. ``stamps_com`` for USPS."""
    return CARRIER_CODES.get(label.carrier, slug(label.carrier))


def service_code(label: Label) -> str:
    """ShipStation's service code, e.g. ``usps_priority_mail``."""
    code = carrier_code(label)
    return service_token(SERVICE_PREFIXES.get(code, code), label.service)


class ShipStationAPI(ShippingAPIBase):
    """The ShipStation emulator (one account)."""

    name = "shipstation"
    prefix = "/shipstation"

    def __init__(self, book: LabelBook, rate_window_seconds: float = 60.0) -> None:
        super().__init__(book, rate_window_seconds)
        self.credentials = {API_KEY: API_SECRET}
        self.rate_limit = RATE_LIMIT  # requests per window and key (40 upstream; tests may lower it)

    def handle(self, request: Request) -> Response:
        """Authenticate, count against the rate limit, then route."""
        self.counters["requests"] += 1
        key = self._authenticate(request.headers.get("authorization", ""))
        if key is None:
            self.counters["unauthorized"] += 1
            return Response(
                status=401,
                body=b"401 Unauthorized",
                headers={"Content-Type": "text/plain", "WWW-Authenticate": 'Basic realm="ShipStation"'},
            )
        verdict = self.limiter.hit(key, self.rate_limit)
        headers = {
            "X-Rate-Limit-Limit": str(verdict.limit),
            "X-Rate-Limit-Remaining": str(verdict.remaining),
            "X-Rate-Limit-Reset": str(verdict.reset_seconds),
        }
        if self.rate_limited_by_fault():
            verdict.allowed = False
        if not verdict.allowed:
            self.counters["throttled"] += 1
            return Response.json({"message": "Too Many Requests"}, status=429, headers=headers)
        path = request.path.removeprefix(self.prefix).rstrip("/")
        if path != "/shipments":
            return Response.json(
                {"Message": f"No HTTP resource was found that matches the request URI '{request.path}'."},
                status=404,
                headers=headers,
            )
        if request.method != "GET":
            return Response.json(
                {"Message": f"The requested resource does not support http method '{request.method}'."},
                status=405,
                headers=headers,
            )
        return self._list_shipments(request, headers)

    @staticmethod
    def error_body(status: int) -> Response:
        """ShipStation's answer to a server error (ASP.NET Web API style)."""
        return Response.json({"Message": "An error has occurred."}, status=status)

    def _authenticate(self, header: str) -> str | None:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            key, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return key if self.credentials.get(key) == secret else None

    def _list_shipments(self, request: Request, headers: dict[str, str]) -> Response:
        try:
            page = int(request.param("page", "1") or 1)
            page_size = min(int(request.param("pageSize", "100") or 100), MAX_PAGE_SIZE)
            bounds = {name: parse_shipstation_filter(value) for name in DATE_FILTERS if (value := request.param(name))}
        except ValueError as exc:
            return Response.json(
                {"Message": "The request is invalid.", "ModelState": {"request": [f"The value '{exc}' is not valid."]}},
                status=400,
                headers=headers,
            )
        if page < 1 or page_size < 1:
            return Response.json(
                {"Message": "The request is invalid.", "ModelState": {"page": ["page and pageSize must be positive."]}},
                status=400,
                headers=headers,
            )
        now = self.book.store.now
        candidates, rest = self._candidates(bounds)
        if rest or any(request.param(name) is not None for name in EXACT_FILTERS):
            labels = [lb for lb in candidates if self._matches(lb, request, rest, now)]
        else:
            labels = candidates
        descending = (request.param("sortDir") or "ASC").upper() == "DESC"
        if (request.param("sortBy") or "CreateDate") == "ShipDate":
            labels.sort(key=lambda lb: (lb.ship_date, lb.created_at), reverse=descending)
        elif descending:
            labels.reverse()
        include_items = (request.param("includeShipmentItems") or "false").lower() == "true"
        chunk = labels[(page - 1) * page_size : page * page_size]
        return Response.json(
            {
                "shipments": [self._shipment(lb, now, include_items) for lb in chunk],
                "total": len(labels),
                "page": page,
                "pages": math.ceil(len(labels) / page_size),
            },
            headers=headers,
        )

    def _candidates(self, bounds: dict[str, datetime]) -> tuple[list[Label], dict[str, datetime]]:
        """The visible labels that can meet ``bounds``, oldest first, and the bounds still to check
        label by label: under a void-date bound only the voided labels, else the creation range by
        bisection (which then needs no check)."""
        shelf = self.book.shelf(self.name)
        if "voidDateStart" in bounds or "voidDateEnd" in bounds:
            return sorted(shelf.voided, key=lambda lb: (lb.created_at, lb.label_id)), bounds
        low = bisect_left(shelf.created, bounds["createDateStart"]) if "createDateStart" in bounds else 0
        high = bisect_right(shelf.created, bounds["createDateEnd"]) if "createDateEnd" in bounds else len(shelf.labels)
        return shelf.labels[low:high], {name: b for name, b in bounds.items() if not name.startswith("createDate")}

    @staticmethod
    def _matches(label: Label, request: Request, bounds: dict[str, datetime], now: datetime) -> bool:
        values: dict[str, Callable[[], datetime | None]] = {
            "created": lambda: label.created_at,
            "ship": lambda: datetime.combine(label.ship_date, datetime.min.time(), PACIFIC),
            "void": lambda: label.voided_at if label.voided_by(now) else None,
        }
        for name, bound in bounds.items():
            field, is_start = DATE_FILTERS[name]
            value = values[field]()
            if value is None or (value < bound if is_start else value > bound):
                return False
        exact = {
            "orderNumber": lambda: label.order_ref,
            "trackingNumber": lambda: label.tracking_number,
            "carrierCode": lambda: carrier_code(label),
            "serviceCode": lambda: service_code(label),
        }
        return all((wanted := request.param(name)) is None or wanted == value() for name, value in exact.items())

    def _shipment(self, label: Label, now: datetime, include_items: bool) -> dict[str, Any]:
        order = label.order
        person = self.book.recipient(order)
        voided = label.voided_by(now)
        items = None
        if include_items:
            items = [
                {
                    "orderItemId": li.id,
                    "lineItemKey": str(li.id),
                    "sku": li.sku,
                    "name": li.title,
                    "imageUrl": None,
                    "weight": None,
                    "quantity": li.quantity,
                    "unitPrice": float(li.unit_price),
                    "warehouseLocation": None,
                    "options": [],
                    "productId": li.product_id,
                    "fulfillmentSku": None,
                }
                for li in order.line_items
                if li.id in label.line_item_ids
            ]
        return {
            "shipmentId": int(label.label_id),
            "orderId": 20_000_000 + order.number,
            "orderKey": hex_id("orderKey", order.id),
            "userId": "5f3a7c1e-0b9d-4c2a-9e61-7d2f0a4b8c10",
            "customerEmail": person.email,
            "orderNumber": label.order_ref,
            "createDate": shipstation_time(label.created_at),
            "shipDate": label.ship_date.isoformat(),
            "shipmentCost": float(label.cost),
            "insuranceCost": float(label.insurance),
            "trackingNumber": label.tracking_number,
            "isReturnLabel": False,
            "batchNumber": None,
            "carrierCode": carrier_code(label),
            "serviceCode": service_code(label),
            "packageCode": "package",
            "confirmation": "none",
            "warehouseId": 16079,
            "voided": voided,
            "voidDate": shipstation_time(label.voided_at) if voided and label.voided_at else None,
            "marketplaceNotified": True,
            "notifyErrorMessage": None,
            "shipTo": {
                "name": person.name,
                "company": "",
                "street1": person.street,
                "street2": "",
                "street3": None,
                "city": person.city,
                "state": "",
                "postalCode": f"{order.number % 99999:05d}",
                "country": order.shipping_country,
                "phone": person.phone,
                "residential": None,
            },
            "weight": {"value": 16, "units": "ounces", "WeightUnits": 1},
            "dimensions": None,
            "insuranceOptions": {
                "provider": "shipsurance" if label.insurance else None,
                "insureShipment": bool(label.insurance),
                "insuredValue": 0,
            },
            "advancedOptions": None,
            "shipmentItems": items,
            "labelData": None,
            "formData": None,
        }
