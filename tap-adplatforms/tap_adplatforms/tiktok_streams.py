"""TikTok Business API v1.3: advertisers, campaigns and the integrated report by day.

TikTok answers errors with HTTP 200 and a non-zero ``code`` in the body; 40100 is its
rate limit. A report with ``stat_time_day`` covers at most :data:`MAX_DAYS` days.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import requests
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.pagination import BaseAPIPaginator, PageNumberPaginator
from typing_extensions import override

from tap_adplatforms.client import AccountReader, PlatformSource, RateLimitedError, body
from tap_adplatforms.records import Field, RowShape, count, day, decimal, money
from tap_adplatforms.windows import Window

MAX_DAYS = 30
PAGE_SIZE = 1000
RATE_LIMIT_WAIT_SECONDS = 5.0
CAMPAIGN_FIELDS = ("campaign_id", "campaign_name", "operation_status", "objective_type")  # else TikTok sends all
REPORT_METRICS = ("campaign_name", "spend", "impressions", "clicks", "complete_payment", "total_complete_payment_rate")
_FIXES = {
    40104: "set tiktok_access_token",
    40105: "the token was revoked or is wrong: authorize the app again and set tiktok_access_token",
    40001: "check tiktok_advertiser_ids, and authorize the app for this advertiser in TikTok Ads Manager",
    40002: "a request parameter was refused: report this message as a bug in the tap",
}


def _encode(values: Iterable[str]) -> str:
    return json.dumps(list(values), separators=(",", ":"))


class TikTokPaginator(PageNumberPaginator):
    """``page`` numbers while ``page_info.page`` is below ``page_info.total_page``."""

    def __init__(self) -> None:
        super().__init__(1)

    @override
    def has_more(self, response: requests.Response) -> bool:
        info = (body(response).get("data") or {}).get("page_info") or {}
        return int(info.get("page", 1)) < int(info.get("total_page", 0))


class TikTokReader(AccountReader):
    """A Business API endpoint of one advertiser."""

    platform = "tiktok"
    url_setting = "tiktok_api_url"
    records_jsonpath = "$.data.list[*]"

    @property
    @override
    def url_base(self) -> str:
        return f"{super().url_base}/open_api/v1.3"

    @property
    @override
    def http_headers(self) -> dict[str, str]:
        return {**super().http_headers, "Access-Token": self.config["tiktok_access_token"]}

    @override
    def get_new_paginator(self) -> BaseAPIPaginator | None:
        return TikTokPaginator()

    @override
    def validate_response(self, response: requests.Response) -> None:
        super().validate_response(response)
        if response.status_code >= 500:
            raise RetriableAPIError(
                self.problem(f"HTTP {response.status_code} from TikTok", "the tap retries"), response
            )
        try:
            answer = body(response)
        except ValueError as exc:
            raise self.fatal(
                f"TikTok answered HTTP {response.status_code} without JSON", "check tiktok_api_url"
            ) from exc
        if not isinstance(answer, dict):
            raise self.fatal(
                f"TikTok answered HTTP {response.status_code} with an unexpected body", "check tiktok_api_url"
            )
        code, message = int(answer.get("code", 0) or 0), answer.get("message", "")
        if code == 0:
            return
        if code == 40100:
            raise RateLimitedError(
                self.problem(f"rate limited by TikTok (code 40100: {message})", "the tap waits and retries"),
                response,
                RATE_LIMIT_WAIT_SECONDS,
            )
        if code >= 50000:
            raise RetriableAPIError(
                self.problem(f"temporary TikTok error {code}: {message}", "the tap retries"), response
            )
        raise self.fatal(
            f"TikTok refused the request (code {code}: {message})",
            _FIXES.get(code, "check the tiktok_* settings for this advertiser"),
        )


class TikTokAccountReader(TikTokReader):
    """``GET advertiser/info/``."""

    path = "/advertiser/info/"

    @override
    def get_new_paginator(self) -> BaseAPIPaginator | None:
        return None

    @override
    def get_url_params(self, context: Any, next_page_token: Any) -> dict[str, Any]:
        return {
            "advertiser_ids": _encode([self.account_id]),
            "fields": _encode(["advertiser_id", "name", "currency", "timezone", "status"]),
        }


class TikTokCampaignsReader(TikTokReader):
    """``GET campaign/get/``."""

    path = "/campaign/get/"

    @override
    def get_url_params(self, context: Any, next_page_token: Any) -> dict[str, Any]:
        return {
            "advertiser_id": self.account_id,
            "fields": _encode(CAMPAIGN_FIELDS),
            "page": next_page_token or 1,
            "page_size": PAGE_SIZE,
        }


class TikTokReportReader(TikTokReader):
    """``GET report/integrated/get/`` by campaign and day."""

    path = "/report/integrated/get/"

    @override
    def get_url_params(self, context: Any, next_page_token: Any) -> dict[str, Any]:
        return {
            "advertiser_id": self.account_id,
            "report_type": "BASIC",
            "data_level": "AUCTION_CAMPAIGN",
            "dimensions": _encode(["campaign_id", "stat_time_day"]),
            "metrics": _encode(REPORT_METRICS),
            "start_date": context["since"],
            "end_date": context["until"],
            "page": next_page_token or 1,
            "page_size": PAGE_SIZE,
        }


class TikTokSource(PlatformSource):
    """TikTok advertisers, campaigns and daily campaign reports."""

    platform = "tiktok"
    max_window_days = MAX_DAYS
    attribution_setting = "per_ad_group"
    shapes: ClassVar[Mapping[str, RowShape]] = {  # numbers as strings
        "ad_accounts": RowShape(
            {
                "name": Field("name"),
                "currency": Field("currency", required=True),
                "timezone": Field("timezone", required=True),
                "status": Field("status"),
            },
            left_out=frozenset({"advertiser_id"}),
        ),  # the account's id, as configured
        "campaigns": RowShape(
            {
                "campaign_id": Field("campaign_id", required=True),
                "name": Field("campaign_name"),
                "status": Field("operation_status"),
                "objective": Field("objective_type"),
            }
        ),
        "ad_spend_daily": RowShape(
            {
                "campaign_id": Field("dimensions.campaign_id", required=True),
                "campaign_name": Field("metrics.campaign_name"),
                "date": Field("dimensions.stat_time_day", day, required=True),
                "spend": Field("metrics.spend", money),
                "impressions": Field("metrics.impressions", count),
                "clicks": Field("metrics.clicks", count),
                "conversions": Field("metrics.complete_payment", decimal),
                "conversion_value": Field("metrics.total_complete_payment_rate", money),
            }
        ),
    }

    def read_account(self, account_id: str) -> Any:
        """Read the advertiser."""
        return next(iter(self.reader(TikTokAccountReader, account_id, "advertiser").rows({})))

    def read_campaigns(self, account_id: str) -> Iterable[Any]:
        """Read the campaigns."""
        return self.reader(TikTokCampaignsReader, account_id, "campaigns").rows({})

    def read_spend(self, account_id: str, window: Window) -> Iterable[Any]:
        """Report rows by campaign and day of ``window`` (at most 30 days)."""
        context = {"since": window.since.isoformat(), "until": window.until.isoformat()}
        return self.reader(TikTokReportReader, account_id, "report").rows(context)
