"""ShipStation API v1: ``GET /shipments`` (labels made in ShipStation)."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk.authenticators import APIKeyAuthenticator
from singer_sdk.pagination import PageNumberPaginator
from typing_extensions import override

from tap_shipping.client import ShippingStream, body, window_start
from tap_shipping.normalize import amount, whole_number
from tap_shipping.timezones import pacific_to_utc, utc_iso, utc_to_pacific

if TYPE_CHECKING:
    from collections.abc import Callable

    import requests
    from singer_sdk.helpers.types import Context

PAGE_SIZE = 500  # ShipStation's largest page


class ShipStationPaginator(PageNumberPaginator):
    """Pages 1..``pages`` as the response counts them."""

    @override
    def has_more(self, response: requests.Response) -> bool:
        answer = body(response)
        return int(answer.get("page", 0)) < int(answer.get("pages", 0))


class ShipmentsStream(ShippingStream):
    """Shipments (labels) by creation time, as ShipStation gives them, plus UTC times.

    ``createDate`` and ``voidDate`` stay as sent (Pacific wall time); ``created_at`` and
    ``voided_at`` are the same instants in UTC. The customer's email and the personal parts of
    ``shipTo`` follow the ``pii`` setting.
    """

    provider = "shipstation"
    credentials_fix: ClassVar[str] = (
        "check shipstation_api_key and shipstation_api_secret (ShipStation: Settings > Account > API Settings)"
    )
    name = "shipstation_shipments"
    path = "/shipments"
    records_jsonpath = "$.shipments[*]"
    primary_keys = ("account_id", "shipmentId")
    replication_key = "created_at"
    is_sorted = True  # sortBy=CreateDate, ascending
    check_sorted = False  # the trailing window re-reads records older than the bookmark
    record_key = "shipmentId"
    added_fields = ShippingStream.added_fields | {"created_at", "voided_at"}
    left_out = frozenset({"labelData", "formData"})  # the label and customs files (base64), not loaded
    personal_fields = (
        "customerEmail",
        *(
            f"shipTo.{name}"
            for name in ("name", "company", "street1", "street2", "street3", "phone", "city", "postalCode")
        ),
    )
    record_fields: ClassVar[dict[str, tuple[Callable[[Any], object], bool]]] = {
        "shipmentId": (whole_number, True),
        "createDate": (pacific_to_utc, True),
        "voidDate": (pacific_to_utc, False),
        "shipmentCost": (amount, False),
        "insuranceCost": (amount, False),
    }

    @property
    @override
    def authenticator(self) -> APIKeyAuthenticator:
        pair = f"{self.config['shipstation_api_key']}:{self.config['shipstation_api_secret']}"
        return APIKeyAuthenticator(key="Authorization", value=f"Basic {base64.b64encode(pair.encode()).decode()}")

    @override
    def get_new_paginator(self) -> ShipStationPaginator:
        return ShipStationPaginator(start_value=1)

    @override
    def get_url_params(self, context: Context | None, next_page_token: int | None) -> dict[str, Any]:
        params: dict[str, Any] = {
            "page": next_page_token or 1,
            "pageSize": PAGE_SIZE,
            "sortBy": "CreateDate",
            "sortDir": "ASC",
            "includeShipmentItems": "false",
        }
        since = window_start(self, context)
        if since is not None:
            # "voided" reads labels voided in the window whatever their age (shipping_labels uses it).
            field = "voidDateStart" if context and context.get("by") == "voided" else "createDateStart"
            params[field] = utc_to_pacific(since)
        return params

    @override
    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        row = super().post_process(row, context) or {}
        row["created_at"] = utc_iso(pacific_to_utc(row["createDate"]))
        row["voided_at"] = utc_iso(pacific_to_utc(row["voidDate"])) if row.get("voidDate") else None
        return row
