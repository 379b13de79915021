"""TikTok Business API v1.3 emulator, mounted under ``/tiktok``.

Serves ``GET /tiktok/open_api/v1.3/advertiser/info/``, ``.../campaign/get/`` and
``.../report/integrated/get/`` (``report_type=BASIC``, ``data_level=AUCTION_CAMPAIGN``,
dimensions ``campaign_id`` and ``stat_time_day``, at most :data:`MAX_DAYS` days per
call, ``page``/``page_size`` paging). The token travels in the ``Access-Token`` header.
As on TikTok, errors come with HTTP 200 and a non-zero ``code`` in the body (40100 rate
limit, 40105 bad token, 40001 no permission, 40002 bad parameter).
"""

from __future__ import annotations

import json
import math
from datetime import date
from typing import Any

from bloom_sandbox.ads import credentials
from bloom_sandbox.ads.common import AdEmulator, request_id
from bloom_sandbox.ads.spend import Account, campaigns, find_account
from bloom_sandbox.ads.spend import truth as spend_truth
from bloom_sandbox.api import Request, Response

BASE = "/tiktok/open_api/v1.3"
MAX_DAYS = 30
MAX_PAGE_SIZE = 1000
REPORT_METRICS = frozenset(
    {
        "spend",
        "impressions",
        "clicks",
        "conversion",
        "complete_payment",
        "total_complete_payment_rate",
        "campaign_name",
        "currency",
    }
)
ADVERTISER_FIELDS = ("advertiser_id", "name", "currency", "timezone", "display_timezone", "status")


def _answer(code: int = 0, message: str = "OK", data: dict[str, Any] | None = None) -> Response:
    return Response.json(
        {"code": code, "message": message, "request_id": request_id("2026"), "data": data if data is not None else {}}
    )


def _json_list(request: Request, name: str) -> list[str] | None:
    raw = request.param(name)
    if raw is None:
        return None
    value = json.loads(raw)
    if not isinstance(value, list):
        raise TypeError(name)
    return [str(v) for v in value]


class TikTokAPI(AdEmulator):
    """The TikTok Business API emulator."""

    name = "tiktok"
    prefix = "/tiktok"
    FAULT_KINDS = frozenset({"rate_limit", "system_error"})

    def handle(self, request: Request) -> Response:
        """Answer one Business API request."""
        self.count("requests")
        if request.method != "GET":
            return _answer(40002, f"Method {request.method} is not supported for this endpoint.")
        token = request.headers.get("access-token") or request.param("Access-Token")
        if not token:
            return _answer(40104, "Access token is empty.")
        if token != credentials.TIKTOK_ACCESS_TOKEN:
            self.count("auth_errors")
            return _answer(40105, "Access token is incorrect or has been revoked.")
        if self.faults.take("rate_limit", request.param("advertiser_id")):
            self.count("rate_limited")
            return _answer(40100, "Too many requests. Please retry in some time.")
        if self.faults.take("system_error", request.param("advertiser_id")):
            return _answer(50000, "System error. Please retry later.")
        try:
            if request.path == f"{BASE}/advertiser/info/":
                return self._advertisers(request)
            account = self._account(request)
            if isinstance(account, Response):
                return account
            if request.path == f"{BASE}/campaign/get/":
                return self._campaigns(account, request)
            if request.path == f"{BASE}/report/integrated/get/":
                return self._report(account, request)
        except (ValueError, TypeError) as exc:
            return _answer(40002, f"Invalid parameter: {exc}")
        return Response.json({"code": 40400, "message": "Not found", "request_id": request_id("2026")}, 404)

    def truth(self) -> dict[str, Any]:
        """Spend per account per day, from the spend model."""
        return spend_truth(self.model, "tiktok")

    @staticmethod
    def _account(request: Request) -> Account | Response:
        advertiser_id = request.param("advertiser_id")
        if not advertiser_id:
            return _answer(40002, "advertiser_id: Missing data for required field.")
        account = find_account("tiktok", advertiser_id)
        if account is None:
            return _answer(
                40001, f"No permission to operate advertiser {advertiser_id}. Authorize the app for this advertiser."
            )
        return account

    def _advertisers(self, request: Request) -> Response:
        ids = _json_list(request, "advertiser_ids")
        if not ids:
            return _answer(40002, "advertiser_ids: Missing data for required field.")
        fields = _json_list(request, "fields") or list(ADVERTISER_FIELDS)
        rows = []
        for advertiser_id in ids:
            account = find_account("tiktok", advertiser_id)
            if account is None:
                return _answer(
                    40001,
                    f"No permission to operate advertiser {advertiser_id}. Authorize the app for this advertiser.",
                )
            full = {
                "advertiser_id": account.account_id,
                "name": account.name,
                "currency": account.currency,
                "timezone": account.timezone,
                "display_timezone": account.timezone,
                "status": "STATUS_ENABLE",
            }
            rows.append({k: full[k] for k in fields if k in full})
        return _answer(data={"list": rows})

    def _campaigns(self, account: Account, request: Request) -> Response:
        page, page_size = self._paging(request)
        rows = [
            {
                "advertiser_id": account.account_id,
                "campaign_id": c.campaign_id,
                "campaign_name": c.name,
                "objective_type": c.objective,
                "operation_status": c.status,
                "secondary_status": f"CAMPAIGN_STATUS_{c.status}",
            }
            for c in campaigns(account)
        ]
        fields = _json_list(request, "fields")  # without it, every field
        if fields:
            rows = [{k: row[k] for k in fields if k in row} for row in rows]
        return _answer(data=self._page(rows, page, page_size))

    def _report(self, account: Account, request: Request) -> Response:
        if request.param("report_type") != "BASIC":
            return _answer(40002, "report_type: the sandbox serves BASIC reports only.")
        if request.param("data_level", "AUCTION_ADVERTISER") != "AUCTION_CAMPAIGN":
            return _answer(40002, "data_level: the sandbox serves AUCTION_CAMPAIGN only.")
        dimensions = _json_list(request, "dimensions") or []
        if sorted(dimensions) != ["campaign_id", "stat_time_day"]:
            return _answer(40002, 'dimensions: use ["campaign_id", "stat_time_day"].')
        metrics = _json_list(request, "metrics") or ["spend", "impressions", "clicks"]
        unknown = sorted(set(metrics) - REPORT_METRICS)
        if unknown:
            return _answer(40002, f"metrics: invalid metric {unknown[0]}.")
        start, end = request.param("start_date"), request.param("end_date")
        if not start or not end:
            return _answer(40002, "start_date and end_date are required when query_lifetime is false.")
        since, until = date.fromisoformat(start), date.fromisoformat(end)
        if since > until:
            return _answer(40002, "end_date must be on or after start_date.")
        if (until - since).days + 1 > MAX_DAYS:
            self.count("range_too_long")
            return _answer(
                40002,
                f"The time range between start_date and end_date cannot exceed {MAX_DAYS} "
                "days when stat_time_day is a dimension.",
            )
        page, page_size = self._paging(request)
        rows = []
        for campaign, day, figures in self.model.between(account, since, until):
            full = {
                "spend": str(figures.spend),
                "impressions": str(figures.impressions),
                "clicks": str(figures.clicks),
                "conversion": str(figures.conversions),
                "complete_payment": str(figures.conversions),
                "total_complete_payment_rate": str(figures.conversion_value),
                "campaign_name": campaign.name,
                "currency": account.currency,
            }
            rows.append(
                {
                    "dimensions": {"campaign_id": campaign.campaign_id, "stat_time_day": f"{day.isoformat()} 00:00:00"},
                    "metrics": {m: full[m] for m in metrics},
                }
            )
        self.count("reports")
        return _answer(data=self._page(rows, page, page_size))

    @staticmethod
    def _paging(request: Request) -> tuple[int, int]:
        page, page_size = int(request.param("page", "1") or 1), int(request.param("page_size", "10") or 10)
        if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page must be >= 1 and page_size between 1 and {MAX_PAGE_SIZE}")
        return page, page_size

    @staticmethod
    def _page(rows: list[dict[str, Any]], page: int, page_size: int) -> dict[str, Any]:
        chunk = rows[(page - 1) * page_size : page * page_size]
        return {
            "list": chunk,
            "page_info": {
                "page": page,
                "page_size": page_size,
                "total_number": len(rows),
                "total_page": math.ceil(len(rows) / page_size),
            },
        }
