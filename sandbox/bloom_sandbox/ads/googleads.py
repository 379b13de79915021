"""Google Ads API (REST, v21+) emulator and its OAuth token endpoint, mounted under ``/googleads``.

``POST /googleads/oauth2/token`` trades the demo refresh token for an access token that
expires after an hour (``expires_in`` 3599, as Google answers). ``POST
/googleads/v21/customers/<id>/googleAds:searchStream`` runs a GAQL query (see
:mod:`bloom_sandbox.ads.gaql`) and answers a JSON array of result batches, proto3 JSON
style: camelCase names, int64 as strings, zero values left out. It needs the headers
``Authorization: Bearer``, ``developer-token`` and, when given, a ``login-customer-id``
that may act for the customer. Errors follow Google's shape with a ``GoogleAdsFailure``
detail (``UNAUTHENTICATED`` 401, ``PERMISSION_DENIED`` 403, ``INVALID_ARGUMENT`` 400,
``RESOURCE_EXHAUSTED`` 429).
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

from bloom_sandbox.ads import credentials, gaql
from bloom_sandbox.ads.common import AdEmulator, request_id
from bloom_sandbox.ads.spend import Account, Campaign, DayFigures, campaigns, find_account, oldest_daily_day
from bloom_sandbox.ads.spend import truth as spend_truth
from bloom_sandbox.api import Request, Response

TOKEN_LIFETIME_SECONDS = 3600
MIN_VERSION = 19
BATCH_SIZE = 10_000
_SEARCH = re.compile(r"^/googleads/v(?P<version>\d+)/customers/(?P<customer>[^/]+)/googleAds:searchStream$")
_UNAUTHENTICATED = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project."
)


def _failure(
    status: int, status_name: str, message: str, error_code: dict[str, str], version: int = 21, **details: Any
) -> Response:
    error: dict[str, Any] = {"errorCode": error_code, "message": message}
    if details:
        error["details"] = details
    failure = {
        "@type": f"type.googleapis.com/google.ads.googleads.v{version}.errors.GoogleAdsFailure",
        "errors": [error],
        "requestId": request_id("gads"),
    }
    top = {
        "code": status,
        "message": message if status != 401 else _UNAUTHENTICATED,
        "status": status_name,
        "details": [failure],
    }
    return Response.json({"error": top}, status=status)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class GoogleAdsAPI(AdEmulator):
    """The Google Ads API emulator."""

    name = "google_ads"
    prefix = "/googleads"
    FAULT_KINDS = frozenset({"quota", "expire_tokens"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tokens: dict[str, float] = {}
        self._token_lock = threading.Lock()

    def handle(self, request: Request) -> Response:
        """Answer a token request or a searchStream call."""
        self.count("requests")
        if request.path == "/googleads/oauth2/token" and request.method == "POST":
            return self._token(request)
        match = _SEARCH.match(request.path)
        if match is None or request.method != "POST":
            return Response.json({"error": {"code": 404, "message": "Not Found", "status": "NOT_FOUND"}}, 404)
        version = int(match["version"])
        if version < MIN_VERSION:
            return Response.json(
                {"error": {"code": 404, "message": f"Version v{version} is sunset.", "status": "NOT_FOUND"}}, 404
            )
        return self._search(request, match["customer"], version)

    def truth(self) -> dict[str, Any]:
        """Spend per account per day, from the spend model."""
        return spend_truth(self.model, "google_ads")

    def expire_tokens(self) -> None:
        """Make every access token issued so far expired, as an hour passing would."""
        with self._token_lock:
            self._tokens = dict.fromkeys(self._tokens, 0.0)

    # -- OAuth ---------------------------------------------------------------------

    def _token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        self.count("token_requests")
        if form.get("grant_type") != "refresh_token":
            return Response.json(
                {
                    "error": "unsupported_grant_type",
                    "error_description": "Invalid grant_type: " + form.get("grant_type", ""),
                },
                400,
            )
        if (
            form.get("client_id") != credentials.GOOGLE_CLIENT_ID
            or form.get("client_secret") != credentials.GOOGLE_CLIENT_SECRET
        ):
            return Response.json({"error": "invalid_client", "error_description": "Unauthorized"}, 401)
        if form.get("refresh_token") != credentials.GOOGLE_REFRESH_TOKEN:
            return Response.json({"error": "invalid_grant", "error_description": "Bad Request"}, 400)
        token = "ya29.sandbox-" + secrets.token_urlsafe(24)
        with self._token_lock:
            self._tokens[token] = time.monotonic() + TOKEN_LIFETIME_SECONDS
        return Response.json(
            {
                "access_token": token,
                "expires_in": TOKEN_LIFETIME_SECONDS - 1,
                "scope": "https://www.googleapis.com/auth/adwords",
                "token_type": "Bearer",
            }
        )

    # -- searchStream --------------------------------------------------------------

    def _search(self, request: Request, customer_id: str, version: int) -> Response:
        if self.faults.take("expire_tokens"):
            self.expire_tokens()
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        with self._token_lock:
            expires = self._tokens.get(token) if scheme.lower() == "bearer" else None
        if expires is None:
            self.count("auth_errors")
            return _failure(
                401,
                "UNAUTHENTICATED",
                "OAuth token in the header is not valid.",
                {"authenticationError": "OAUTH_TOKEN_INVALID"},
                version,
            )
        if expires <= time.monotonic():
            self.count("expired_tokens")
            return _failure(
                401,
                "UNAUTHENTICATED",
                "OAuth token in the header has expired.",
                {"authenticationError": "OAUTH_TOKEN_EXPIRED"},
                version,
            )
        if request.headers.get("developer-token") != credentials.GOOGLE_DEVELOPER_TOKEN:
            return _failure(
                401,
                "UNAUTHENTICATED",
                "The developer token is not valid.",
                {"authenticationError": "DEVELOPER_TOKEN_INVALID"},
                version,
            )
        if not customer_id.isdigit():
            return _failure(
                400,
                "INVALID_ARGUMENT",
                "Client customer ID is not a number.",
                {"authenticationError": "CLIENT_CUSTOMER_ID_INVALID"},
                version,
            )
        account = find_account("google_ads", customer_id)
        login = request.headers.get("login-customer-id")
        if account is None or (login and login not in {customer_id, credentials.GOOGLE_MANAGER_ID}):
            return _failure(
                403,
                "PERMISSION_DENIED",
                "User doesn't have permission to access customer. Note: If you're accessing a "
                "client customer, the manager's customer id must be set in the "
                "'login-customer-id' header.",
                {"authorizationError": "USER_PERMISSION_DENIED"},
                version,
            )
        if self.faults.take("quota", customer_id):
            self.count("quota_errors")
            return _failure(
                429,
                "RESOURCE_EXHAUSTED",
                "Too many requests. Retry in 30 seconds.",
                {"quotaError": "RESOURCE_EXHAUSTED"},
                version,
                quotaErrorDetails={
                    "rateScope": "DEVELOPER",
                    "rateName": "Number of operations for explorer access",
                    "retryDelay": "30s",
                },
            )
        try:
            query = gaql.parse(str((request.json() or {}).get("query", "")))
        except gaql.GaqlError as exc:
            return _failure(400, "INVALID_ARGUMENT", str(exc), {"queryError": exc.code}, version)
        except (ValueError, AttributeError):
            return _failure(
                400, "INVALID_ARGUMENT", "Invalid JSON payload received.", {"requestError": "BAD_RESOURCE_ID"}, version
            )
        low, _high = query.date_range
        if low is not None and low < oldest_daily_day(self.world, account):
            return _failure(
                400,
                "INVALID_ARGUMENT",
                "The requested time granularity is not supported for the "
                "date range in the query. Metrics with daily, hourly, or weekly segmentation are "
                "only available for the last 37 months.",
                {"dateRangeError": "REQUESTED_DATE_GRANULARITY_NOT_SUPPORTED"},
                version,
            )
        self.count("search_streams")
        rows = self._rows(account, query)
        return Response.json(self._batches(rows, query))

    def _rows(self, account: Account, query: gaql.Query) -> list[dict[str, str | Decimal | int]]:
        base = {
            "customer.id": account.account_id,
            "customer.resource_name": f"customers/{account.account_id}",
            "customer.descriptive_name": account.name,
            "customer.currency_code": account.currency,
            "customer.time_zone": account.timezone,
            "customer.status": "ENABLED",
            "customer.manager": "",
        }
        if query.resource == "customer":
            return [base]
        rows: list[dict[str, str | Decimal | int]] = []
        wants_metrics = any(f.startswith(("metrics.", "segments.")) for f in query.fields)
        if not wants_metrics:
            for campaign in campaigns(account):
                row = {**base, **self._campaign_values(account, campaign)}
                if gaql.matches(query, row):
                    rows.append(row)
            return rows
        low, high = query.date_range
        for campaign, day, figures in self.model.between(account, low, high):
            row = {
                **base,
                **self._campaign_values(account, campaign),
                "segments.date": day.isoformat(),
                **self._metric_values(figures),
            }
            if gaql.matches(query, {k: str(v) for k, v in row.items()}):
                rows.append(row)
        for name, descending in reversed(query.order):
            rows.sort(key=lambda r, n=name: str(r.get(n, "")), reverse=descending)
        return rows[: query.limit] if query.limit else rows

    @staticmethod
    def _campaign_values(account: Account, campaign: Campaign) -> dict[str, str]:
        return {
            "campaign.id": campaign.campaign_id,
            "campaign.name": campaign.name,
            "campaign.resource_name": f"customers/{account.account_id}/campaigns/{campaign.campaign_id}",
            "campaign.status": campaign.status,
            "campaign.advertising_channel_type": campaign.objective,
        }

    @staticmethod
    def _metric_values(figures: DayFigures) -> dict[str, Decimal | int]:
        return {
            "metrics.cost_micros": int(figures.spend * 1_000_000),
            "metrics.impressions": figures.impressions,
            "metrics.clicks": figures.clicks,
            "metrics.conversions": figures.conversions,
            "metrics.conversions_value": figures.conversion_value,
        }

    @staticmethod
    def _batches(rows: list[dict[str, Any]], query: gaql.Query) -> list[dict[str, Any]]:
        """Render rows as searchStream batches in proto3 JSON."""
        mask = ",".join(query.fields)
        batches: list[dict[str, Any]] = []
        for start in range(0, max(len(rows), 1), BATCH_SIZE):
            results = []
            for row in rows[start : start + BATCH_SIZE]:
                result: dict[str, dict[str, Any]] = {}
                for name in query.fields:
                    value = row.get(name)
                    if value in (None, "", 0) or (isinstance(value, Decimal) and value == 0):
                        continue  # proto3 JSON leaves default values out
                    resource, _, attribute = name.partition(".")
                    if isinstance(value, Decimal):
                        value = float(value)  # double fields are JSON numbers
                    elif isinstance(value, int):
                        value = str(value)  # int64 fields are JSON strings
                    result.setdefault(resource, {})[_camel(attribute)] = value
                results.append(result)
            batch: dict[str, Any] = {"fieldMask": mask, "requestId": request_id("gads")}
            if results:
                batch = {"results": results, **batch}
            batches.append(batch)
        batches[-1]["queryResourceConsumption"] = str(10 * len(rows) + 1)
        return batches
