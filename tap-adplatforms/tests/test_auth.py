"""The Google OAuth authenticator against the sandbox's token endpoint."""

from __future__ import annotations

import pytest
import requests
from bloom_sandbox.ads import credentials
from singer_sdk.exceptions import FatalAPIError
from tap_adplatforms.auth import REFRESH_MARGIN_SECONDS, GoogleAdsAuthenticator


def _authenticator(sandbox, **overrides: str) -> GoogleAdsAuthenticator:
    settings = {
        "token_url": f"{sandbox.url}/googleads/oauth2/token",
        "client_id": credentials.GOOGLE_CLIENT_ID,
        "client_secret": credentials.GOOGLE_CLIENT_SECRET,
        "refresh_token": credentials.GOOGLE_REFRESH_TOKEN,
    } | overrides
    return GoogleAdsAuthenticator(**settings)


def _authorize(authenticator: GoogleAdsAuthenticator) -> str:
    request = requests.Request("POST", "http://127.0.0.1/x").prepare()
    return authenticator(request).headers["Authorization"]


def test_token_is_reused_refreshed_early_and_after_invalidation(sandbox):
    authenticator = _authenticator(sandbox)
    first = _authorize(authenticator)
    assert first.startswith("Bearer ya29.")
    assert authenticator.expires_in == 3599 - REFRESH_MARGIN_SECONDS  # refreshed five minutes early
    assert _authorize(authenticator) == first
    assert sandbox.stats("google_ads")["token_requests"] == 1
    authenticator.invalidate()
    assert _authorize(authenticator) != first
    assert authenticator.refreshes == sandbox.stats("google_ads")["token_requests"] == 2


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"refresh_token": "1//0gRevokedToken"}, "invalid_grant"),
        ({"client_secret": "GOCSPX-wrong-secret"}, "invalid_client"),
    ],
)
def test_refused_refresh_names_the_setting(sandbox, overrides, expected):
    with pytest.raises(FatalAPIError) as caught:
        _authorize(_authenticator(sandbox, **overrides))
    assert expected in str(caught.value)
    assert "What to do:" in str(caught.value)
    assert next(iter(overrides.values())) not in str(caught.value)
