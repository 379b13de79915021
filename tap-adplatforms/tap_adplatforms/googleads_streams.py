"""Google Ads API (REST): customers, campaigns and campaign metrics by day, over GAQL searchStream.

Queries live in ``queries/*.gaql``. Results come in proto3 JSON: camelCase names, int64
values as strings, zero values left out. ``metrics.cost_micros`` is converted to the
account currency exactly (``Decimal`` micros / 10^6).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any, ClassVar

import requests
from singer_sdk.exceptions import RetriableAPIError
from typing_extensions import override

from tap_adplatforms.auth import GoogleAdsAuthenticator
from tap_adplatforms.client import AccountReader, PlatformSource, RateLimitedError, body, setting
from tap_adplatforms.records import Field, RowShape, count, day, decimal, micros, money
from tap_adplatforms.settings import normalize_account_id
from tap_adplatforms.windows import Window

TOKEN_ERRORS = frozenset({"OAUTH_TOKEN_EXPIRED", "OAUTH_TOKEN_INVALID", "OAUTH_TOKEN_REVOKED", "OAUTH_TOKEN_DISABLED"})


@cache
def query(name: str) -> str:
    """The text of ``queries/<name>.gaql``."""
    return (resources.files("tap_adplatforms") / "queries" / f"{name}.gaql").read_text()


def _failure(response: requests.Response) -> tuple[str, str, dict[str, Any]]:
    """(status, message, first GoogleAdsFailure error) of an error answer."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    if not isinstance(error, dict):
        return "", str(response.reason), {}
    details = [d for d in error.get("details") or [] if str(d.get("@type", "")).endswith("GoogleAdsFailure")]
    first = (details[0].get("errors") or [{}])[0] if details else {}
    return str(error.get("status", "")), str(first.get("message") or error.get("message", "")), first


class GoogleAdsReader(AccountReader):
    """One GAQL query against ``customers/<id>/googleAds:searchStream``."""

    platform = "google_ads"
    url_setting = "google_ads_api_url"
    path = "/customers/{account_id}/googleAds:searchStream"
    http_method = "POST"
    query_name = ""

    def __init__(self, *args: Any, authenticator: GoogleAdsAuthenticator, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._authenticator = authenticator

    @property
    @override
    def url_base(self) -> str:
        return f"{super().url_base}/{setting(self.config, 'google_ads_api_version')}"

    @property
    @override
    def authenticator(self) -> GoogleAdsAuthenticator:
        return self._authenticator

    @property
    @override
    def http_headers(self) -> dict[str, str]:
        headers = {**super().http_headers, "developer-token": self.config["google_ads_developer_token"]}
        if self.config.get("google_ads_login_customer_id"):
            headers["login-customer-id"] = normalize_account_id(
                "google_ads", self.config["google_ads_login_customer_id"]
            )
        return headers

    @override
    def get_new_paginator(self) -> None:
        return None  # searchStream answers the whole result at once

    @override
    def prepare_request_payload(self, context: Any, next_page_token: Any) -> dict[str, Any]:
        return {"query": query(self.query_name).format(**(context or {}))}

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        for batch in body(response):
            yield from batch.get("results", [])

    @override
    def validate_response(self, response: requests.Response) -> None:
        super().validate_response(response)
        if response.status_code < 400:
            return
        status, message, error = _failure(response)
        code = error.get("errorCode") or {}
        if response.status_code == 401 and code.get("authenticationError") in TOKEN_ERRORS:
            self.authenticator.invalidate()
            raise RateLimitedError(
                self.problem(
                    f"access token rejected ({message})",
                    "the tap gets a new one and retries; if that keeps failing, check that the refresh "
                    "token belongs to a Google user with access to this customer",
                ),
                response,
                0.0,
            )
        if status == "RESOURCE_EXHAUSTED" or response.status_code == 429:
            delay = str((error.get("details") or {}).get("quotaErrorDetails", {}).get("retryDelay", "30s"))
            raise RateLimitedError(
                self.problem(
                    f"Google Ads quota exhausted ({message})",
                    "the tap waits and retries; apply for a higher access level for the developer "
                    "token if this happens every day",
                ),
                response,
                float(delay.rstrip("s") or 30),
            )
        if response.status_code >= 500:
            raise RetriableAPIError(
                self.problem(f"temporary Google Ads error ({status}: {message})", "the tap retries"), response
            )
        raise self.fatal(f"Google Ads refused the request ({status} {_code_name(code)}: {message})", _fix(code))


def _code_name(code: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in code.items())


def _fix(code: dict[str, str]) -> str:
    if code.get("authenticationError") == "DEVELOPER_TOKEN_INVALID":
        return "set google_ads_developer_token to the token from the manager account's API Center"
    if code.get("authorizationError") == "USER_PERMISSION_DENIED":
        return (
            "check google_ads_customer_ids, and set google_ads_login_customer_id to the manager account "
            "the OAuth user reaches this customer through"
        )
    if code.get("authenticationError") == "CLIENT_CUSTOMER_ID_INVALID":
        return "google_ads_customer_ids must hold digits only"
    if "queryError" in code:
        return "this is a bug in the tap's GAQL; please report it with this message"
    return "check the google_ads_* settings for this customer"


class GoogleAccountReader(GoogleAdsReader):
    """The customer itself."""

    query_name = "account"


class GoogleCampaignsReader(GoogleAdsReader):
    """The customer's campaigns."""

    query_name = "campaigns"


class GoogleSpendReader(GoogleAdsReader):
    """Campaign metrics per day."""

    query_name = "spend"


class GoogleAdsSource(PlatformSource):
    """Google Ads customers, campaigns and daily campaign metrics."""

    platform = "google_ads"
    history_months = 37  # daily segments are kept for the last 37 months
    attribution_setting = "per_conversion_action"
    shapes: ClassVar[Mapping[str, RowShape]] = {  # proto3 JSON: int64 as strings, zero values left out
        "ad_accounts": RowShape(
            {
                "name": Field("customer.descriptiveName"),
                "currency": Field("customer.currencyCode", required=True),
                "timezone": Field("customer.timeZone", required=True),
                "status": Field("customer.status"),
            }
        ),
        "campaigns": RowShape(
            {
                "campaign_id": Field("campaign.id", required=True),
                "name": Field("campaign.name"),
                "status": Field("campaign.status"),
                "objective": Field("campaign.advertisingChannelType"),
            }
        ),
        "ad_spend_daily": RowShape(
            {
                "campaign_id": Field("campaign.id", required=True),
                "campaign_name": Field("campaign.name"),
                "date": Field("segments.date", day, required=True),
                "spend": Field("metrics.costMicros", micros),
                "impressions": Field("metrics.impressions", count),
                "clicks": Field("metrics.clicks", count),
                "conversions": Field("metrics.conversions", decimal),
                "conversion_value": Field("metrics.conversionsValue", money),
            }
        ),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.authenticator = GoogleAdsAuthenticator(
            token_url=str(setting(self.config, "google_ads_token_url")),
            client_id=self.config["google_ads_client_id"],
            client_secret=self.config["google_ads_client_secret"],
            refresh_token=self.config["google_ads_refresh_token"],
        )

    @override
    def make_reader(self, kind: type[AccountReader], account_id: str, endpoint: str) -> AccountReader:
        return kind(self.tap, account_id=account_id, endpoint=endpoint, authenticator=self.authenticator)

    def read_account(self, account_id: str) -> Any:
        """Read the customer."""
        return next(iter(self.reader(GoogleAccountReader, account_id, "customer").rows({"account_id": account_id})))

    def read_campaigns(self, account_id: str) -> Iterable[Any]:
        """Read the campaigns."""
        return self.reader(GoogleCampaignsReader, account_id, "campaigns").rows({"account_id": account_id})

    def read_spend(self, account_id: str, window: Window) -> Iterable[Any]:
        """Campaign metrics per day of ``window``."""
        context = {"account_id": account_id, "since": window.since.isoformat(), "until": window.until.isoformat()}
        return self.reader(GoogleSpendReader, account_id, "spend").rows(context)
