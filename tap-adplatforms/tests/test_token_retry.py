"""A 5xx or a broken connection of Google's token endpoint is retried, not the end of the run."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer
from singer_sdk.exceptions import FatalAPIError
from tap_adplatforms import auth
from tap_adplatforms.auth import GoogleAdsAuthenticator


def authenticator(server: HTTPServer) -> GoogleAdsAuthenticator:
    return GoogleAdsAuthenticator(token_url=server.url_for("/token"), client_id="c", client_secret="s",
                                  refresh_token="r")  # fmt: skip


def test_token_endpoint_500_twice_then_a_token(httpserver: HTTPServer, monkeypatch):
    monkeypatch.setattr(auth.time, "sleep", lambda _s: None)
    for _ in range(2):
        httpserver.expect_ordered_request("/token", method="POST").respond_with_data("oops", status=500)
    httpserver.expect_ordered_request("/token", method="POST").respond_with_json(
        {"access_token": "ya29.x", "expires_in": 3599, "token_type": "Bearer"}
    )
    auth_ = authenticator(httpserver)
    auth_.update_access_token()
    assert auth_.access_token == "ya29.x"
    assert auth_.refreshes == 1


def test_token_endpoint_failing_every_time_ends_with_one_line(httpserver: HTTPServer, monkeypatch):
    monkeypatch.setattr(auth.time, "sleep", lambda _s: None)
    httpserver.expect_request("/token", method="POST").respond_with_data("down", status=503)
    with pytest.raises(FatalAPIError, match="failed 5 times"):
        authenticator(httpserver).update_access_token()


def test_refused_refresh_token_is_not_retried(httpserver: HTTPServer):
    httpserver.expect_oneshot_request("/token", method="POST").respond_with_json({"error": "invalid_grant"}, status=400)
    with pytest.raises(FatalAPIError, match="google_ads_refresh_token"):
        authenticator(httpserver).update_access_token()
