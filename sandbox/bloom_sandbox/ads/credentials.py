"""Demo credentials and account ids the ad-platform emulators accept.

They are constants on purpose: the demo environment, the tap's tests and the README use
them to talk to a sandbox started from any seed.

| platform | setting | value |
|---|---|---|
| Meta | access token | ``meta_sandbox_token`` |
| Meta | ad accounts | ``act_1001`` (USD, America/Los_Angeles), ``act_1002`` (GBP, Europe/London) |
| Google Ads | developer token | ``google_sandbox_developer_token`` |
| Google Ads | OAuth client id | ``sandbox-client.apps.googleusercontent.com`` |
| Google Ads | OAuth client secret | ``google_sandbox_client_secret`` |
| Google Ads | refresh token | ``google_sandbox_refresh_token`` |
| Google Ads | customer id / manager (login-customer-id) | ``1234567890`` / ``9876543210`` |
| TikTok | access token | ``tiktok_sandbox_token`` |
| TikTok | advertiser id | ``7000000000001`` (EUR, Europe/Berlin) |
"""

from __future__ import annotations

META_ACCESS_TOKEN = "meta_sandbox_token"  # noqa: S105 - a public demo value
GOOGLE_DEVELOPER_TOKEN = "google_sandbox_developer_token"  # noqa: S105
GOOGLE_CLIENT_ID = "sandbox-client.apps.googleusercontent.com"
GOOGLE_CLIENT_SECRET = "google_sandbox_client_secret"  # noqa: S105
GOOGLE_REFRESH_TOKEN = "google_sandbox_refresh_token"  # noqa: S105
GOOGLE_MANAGER_ID = "9876543210"
TIKTOK_ACCESS_TOKEN = "tiktok_sandbox_token"  # noqa: S105
