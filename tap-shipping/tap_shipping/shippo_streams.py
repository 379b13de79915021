"""Shippo: ``GET /transactions/`` (labels) and ``GET /refunds/`` (voids), newest first.

Neither list can be filtered by time, so a run pages from the newest object back and
stops at the first page that reaches past the start of its window (bookmark minus the
trailing window). Labels older than the window are not re-read; their refunds are, and
``shipping_labels`` fetches each such label by id.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

from singer_sdk.authenticators import APIKeyAuthenticator
from singer_sdk.exceptions import FatalAPIError
from singer_sdk.pagination import BaseHATEOASPaginator
from typing_extensions import override

from tap_shipping.client import ShippingStream, body, window_start
from tap_shipping.normalize import identifier, shippo_rate
from tap_shipping.timezones import parse_iso

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    import requests
    from singer_sdk.helpers.types import Context
    from singer_sdk.streams.rest import HTTPRequest, PageContext

RESULTS_PER_PAGE = 100  # Shippo's largest page


class NewestFirstPaginator(BaseHATEOASPaginator):
    """Follows ``next`` until a page holds an object created before ``since``."""

    def __init__(self, since: datetime | None) -> None:
        """Stop once objects get older than ``since`` (``None``: read everything)."""
        super().__init__()
        self.since = since

    @override
    def get_next_url(self, response: requests.Response) -> str | None:
        return body(response).get("next")

    @override
    def has_more(self, response: requests.Response) -> bool:
        results = body(response).get("results") or []
        if self.since is not None and any(parse_iso(r["object_created"]) < self.since for r in results):
            return False
        return super().has_more(response)


class ShippoStream(ShippingStream):
    """A Shippo list, read newest first down to the start of the window."""

    provider = "shippo"
    credentials_fix: ClassVar[str] = "check shippo_api_token (Shippo: Settings > Advanced > API)"
    primary_keys = ("account_id", "object_id")
    replication_key = "object_created"
    is_sorted = False  # newest first
    records_jsonpath = "$.results[*]"
    record_key = "object_id"
    _since: datetime | None = None  # start of the window being read (set per read)

    @property
    @override
    def authenticator(self) -> APIKeyAuthenticator:
        return APIKeyAuthenticator(key="Authorization", value=f"ShippoToken {self.config['shippo_api_token']}")

    @override
    def request_records(self, context: Context | None) -> Iterable[dict]:
        """Records of the window only; the window is kept for the paginator this read creates."""
        single = bool(context and context.get("object_id"))
        self._since = None if single else window_start(self, context)
        for record in super().request_records(context):
            if self._since is None or parse_iso(record["object_created"]) >= self._since:
                yield record

    @override
    def get_new_paginator(self) -> NewestFirstPaginator:
        return NewestFirstPaginator(self._since)

    @override
    def get_url_params(self, context: Context | None, next_page_token: Any) -> dict[str, Any]:
        return {"results": RESULTS_PER_PAGE}

    @override
    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        request = super().get_http_request(page=page)
        token = page.next_page_token
        if token:
            base = urlsplit(self.url_base)
            if (token.scheme, token.netloc) != (base.scheme, base.netloc):
                msg = (
                    f"{self.account.describe()}: the API sent a next-page link to another host "
                    f"({token.netloc}); refusing to send the token there. Check shippo_api_url."
                )
                raise FatalAPIError(msg)
            request.url = token._replace(query="").geturl()
            request.params = dict(parse_qsl(token.query))
        return request


class TransactionsStream(ShippoStream):
    """Label purchases (transactions) as Shippo gives them, with ``rate`` expanded."""

    name = "shippo_transactions"
    path = "/transactions/"  # Shippo's documented form, with the slash
    personal_fields = ("object_owner", "created_by.first_name", "created_by.last_name", "created_by.username")
    record_fields: ClassVar[dict[str, tuple[Callable[[Any], object], bool]]] = {
        "object_id": (identifier, True),
        "object_created": (parse_iso, True),
        "object_updated": (parse_iso, False),
        "rate": (shippo_rate, False),
    }

    @override
    def get_url(self, context: Context | None) -> str:
        """The list, or one transaction when the context names ``object_id``."""
        url = super().get_url(context)
        return f"{url}{context['object_id']}" if context and context.get("object_id") else url

    @override
    def rows_of(self, response: requests.Response) -> Iterable[dict]:
        answer = body(response)
        if "results" in answer:
            yield from answer["results"]
        else:
            yield answer


class RefundsStream(ShippoStream):
    """Label refunds (voids) as Shippo gives them; ``transaction`` is the label's ``object_id``."""

    name = "shippo_refunds"
    path = "/refunds/"
    personal_fields = ("object_owner",)
    record_fields: ClassVar[dict[str, tuple[Callable[[Any], object], bool]]] = {
        "object_id": (identifier, True),
        "object_created": (parse_iso, True),
        "transaction": (identifier, True),
    }
