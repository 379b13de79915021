"""Cassettes: the tap's requests and the answers, in each API's documented shapes, secrets filtered.

``python tests/adplatforms_cassettes.py`` (from tap-adplatforms/) records them again: it serves the
sandbox's ad emulators at a fixed clock, runs the tap against them, and stores every
exchange under the real API hosts, so that the replay test runs the tap with its default
``https://`` base URLs and never reaches the network (``record_mode="none"``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import vcr

DIR = Path(__file__).parent / "cassettes"
NOW = datetime(2026, 11, 1, tzinfo=UTC)  # the sandbox clock when recording
START, END = "2026-10-10", "2026-10-31"  # 7 recent days, then 15 history days (a Meta async run)
REDACTED = "REDACTED"
HOSTS = {  # sandbox prefix -> (real origin, real path prefix)
    "/googleads/oauth2/token": ("https://oauth2.googleapis.com", "/token"),
    "/meta": ("https://graph.facebook.com", ""),
    "/googleads": ("https://googleads.googleapis.com", ""),
    "/tiktok": ("https://business-api.tiktok.com", ""),
}
SECRET_HEADERS = ["authorization", "access-token", "developer-token"]
SECRET_FORM_FIELDS = ["client_id", "client_secret", "refresh_token"]


def replay_config(platform: str) -> dict[str, Any]:
    """The tap config the cassettes were recorded with, secrets replaced, default base URLs."""
    common = {"start_date": START, "end_date": END, "meta_report_poll_seconds": 0, "rate_limit_max_wait_seconds": 0}
    return (
        common
        | {
            "meta": {"meta_access_token": REDACTED, "meta_account_ids": ["act_1001"]},
            "google_ads": {
                "google_ads_developer_token": REDACTED,
                "google_ads_client_id": REDACTED,
                "google_ads_client_secret": REDACTED,
                "google_ads_refresh_token": REDACTED,
                "google_ads_customer_ids": ["1234567890"],
            },
            "tiktok": {"tiktok_access_token": REDACTED, "tiktok_advertiser_ids": ["7000000000001"]},
        }[platform]
    )


def player(platform: str) -> Any:
    """A vcr context replaying one platform's cassette, refusing anything not recorded."""
    return vcr.VCR(record_mode="none", match_on=["method", "scheme", "host", "path", "query"]).use_cassette(
        str(DIR / f"{platform}.yaml")
    )


def _to_real_host(request: Any) -> Any:
    parts = urlsplit(request.uri)
    for prefix, (origin, real_prefix) in HOSTS.items():
        if parts.path.startswith(prefix):
            real = urlsplit(origin)
            request.uri = urlunsplit(
                (real.scheme, real.netloc, real_prefix + parts.path[len(prefix) :], parts.query, "")
            )
            break
    return request


def _clean_response(response: dict[str, Any]) -> dict[str, Any]:
    response["headers"].pop("Server", None)
    response["headers"].pop("Date", None)
    response["headers"].pop("Content-Length", None)
    body = response["body"]["string"]
    if b"access_token" in body:
        payload = json.loads(body)
        payload["access_token"] = f"ya29.{REDACTED}"
        response["body"]["string"] = json.dumps(payload).encode()
    return response


def record() -> None:
    """Record the three cassettes from a sandbox at :data:`NOW`."""
    from adplatforms_testkit import start_sandbox, stop_sandbox
    from tap_adplatforms.tap import TapAdPlatforms

    sandbox, server = start_sandbox(now=NOW)
    recorder = vcr.VCR(
        record_mode="all",
        filter_headers=SECRET_HEADERS,
        filter_post_data_parameters=SECRET_FORM_FIELDS,
        before_record_request=_to_real_host,
        before_record_response=_clean_response,
        decode_compressed_response=True,
    )
    try:
        for platform in ("meta", "google_ads", "tiktok"):
            path = DIR / f"{platform}.yaml"
            path.unlink(missing_ok=True)
            config = sandbox.config(platform, start_date=START, end_date=END, meta_report_poll_seconds=0)
            config.pop("google_ads_login_customer_id", None)
            if platform == "meta":
                config["meta_account_ids"] = ["act_1001"]
            with recorder.use_cassette(str(path)):
                TapAdPlatforms(config=config).sync_all()
    finally:
        stop_sandbox(server)


if __name__ == "__main__":
    record()
