"""Google access tokens live an hour: the tap trades the refresh token again before that hour ends."""

from __future__ import annotations

from datetime import timedelta

import requests
from bloom_sandbox.ads import credentials
from tap_adplatforms.auth import REFRESH_MARGIN_SECONDS, GoogleAdsAuthenticator


def _header(authenticator: GoogleAdsAuthenticator) -> str:
    return authenticator(requests.Request("POST", "http://127.0.0.1/x").prepare()).headers["Authorization"]


def test_access_token_is_refreshed_before_its_hour_ends(sandbox):
    authenticator = GoogleAdsAuthenticator(
        token_url=f"{sandbox.url}/googleads/oauth2/token",
        client_id=credentials.GOOGLE_CLIENT_ID,
        client_secret=credentials.GOOGLE_CLIENT_SECRET,
        refresh_token=credentials.GOOGLE_REFRESH_TOKEN,
    )
    first = _header(authenticator)
    lifetime = 3599 - REFRESH_MARGIN_SECONDS  # Google's expires_in, less the margin
    assert authenticator.last_refreshed is not None
    authenticator.last_refreshed -= timedelta(seconds=lifetime - 5)  # 50 minutes later: still the same token
    assert _header(authenticator) == first
    authenticator.last_refreshed -= timedelta(seconds=10)  # 55 minutes after it was issued: a new one
    second = _header(authenticator)
    assert second != first
    assert sandbox.stats("google_ads")["token_requests"] == 2
    assert authenticator.refreshes == 2
