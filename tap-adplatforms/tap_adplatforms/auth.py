"""Google's OAuth 2.0 refresh-token flow for the Google Ads API."""

from __future__ import annotations

import json
import time
from typing import Any

import requests
from singer_sdk.authenticators import OAuthAuthenticator
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from typing_extensions import override

REFRESH_MARGIN_SECONDS = 300  # refresh this long before Google's expiry
TOKEN_TRIES = 5  # a 5xx, 429 or broken connection of the token endpoint is retried, waiting 1, 2, 4, 8 s
TRANSIENT = (RetriableAPIError, requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)

_FIXES = {
    "invalid_grant": "the refresh token was revoked or expired: create a new one for this OAuth client and set "
    "google_ads_refresh_token",
    "invalid_client": "Google does not know this OAuth client: check google_ads_client_id and google_ads_client_secret",
    "unauthorized_client": "the OAuth client may not use this refresh token: create the refresh token with the "
    "same client id",
}


class GoogleAdsAuthenticator(OAuthAuthenticator):
    """Trades the refresh token for access tokens (valid an hour) and refreshes them early.

    One instance serves every Google Ads account of a run, so a token is refreshed once,
    not once per account. :meth:`invalidate` forces a refresh when Google rejects a token
    before its announced expiry.
    """

    def __init__(self, *, token_url: str, client_id: str, client_secret: str, refresh_token: str) -> None:
        super().__init__(
            auth_endpoint=token_url,
            client_id=client_id,
            client_secret=client_secret,
            oauth_scopes="https://www.googleapis.com/auth/adwords",
        )
        self._refresh_token = refresh_token
        self.refreshes = 0

    @property
    @override
    def oauth_request_body(self) -> dict[str, Any]:
        return {
            "grant_type": "refresh_token",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": self._refresh_token,
        }

    @override
    def update_access_token(self) -> None:
        for attempt in range(TOKEN_TRIES):
            try:
                super().update_access_token()
                break
            except TRANSIENT as error:
                if attempt == TOKEN_TRIES - 1:
                    msg = (
                        f"Google Ads: the OAuth token endpoint failed {TOKEN_TRIES} times ({error}). What to do: "
                        "check google_ads_token_url and the network, and run again."
                    )
                    raise FatalAPIError(msg) from None
                time.sleep(2**attempt)
        self.refreshes += 1
        if self.expires_in:
            self.expires_in = max(self.expires_in - REFRESH_MARGIN_SECONDS, 1)

    def invalidate(self) -> None:
        """Forget the access token so that the next request gets a new one."""
        self.last_refreshed = None

    @override
    def handle_error(self, *, content: str, status_code: int | None) -> None:
        if status_code is not None and (status_code >= 500 or status_code == 429):
            msg = f"Google Ads: the OAuth token endpoint answered HTTP {status_code}; retrying"
            raise RetriableAPIError(msg)
        try:
            code = str(json.loads(content).get("error", ""))
        except (ValueError, AttributeError):
            code = ""
        fix = _FIXES.get(code, "check the google_ads_* OAuth settings and google_ads_token_url")
        msg = (
            f"Google Ads: the OAuth token endpoint refused the refresh token (HTTP {status_code}"
            f"{', ' + code if code else ''}). What to do: {fix}."
        )
        raise FatalAPIError(msg)
