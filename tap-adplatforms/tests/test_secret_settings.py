"""Which settings are secret, and that every URL the tap sends a credential to must be https."""

from __future__ import annotations

import pytest
from singer_sdk.exceptions import ConfigValidationError
from tap_adplatforms.tap import TapAdPlatforms

SECRETS = {
    "meta_access_token",
    "google_ads_developer_token",
    "google_ads_client_secret",
    "google_ads_refresh_token",
    "tiktok_access_token",
}


def test_tokens_and_secrets_are_marked_secret():
    properties = TapAdPlatforms.config_jsonschema["properties"]
    assert {name for name, spec in properties.items() if spec.get("secret")} == SECRETS
    for name in SECRETS:
        assert properties[name].get("writeOnly") is True, name  # how --about and Meltano see a secret


@pytest.mark.parametrize("setting", ["meta_api_url", "google_ads_api_url", "google_ads_token_url", "tiktok_api_url"])
def test_every_credential_url_must_be_https_unless_loopback(sandbox, setting):
    """The Google token URL receives the refresh token and client secret: it is checked like the API URLs."""
    path = sandbox.config()[setting].split("/", 3)[3]
    with pytest.raises(ConfigValidationError) as caught:
        TapAdPlatforms(config=sandbox.config(**{setting: f"http://ads.example.com/{path}"}))
    assert any(error.startswith(f"{setting} must be an https:// URL") for error in caught.value.errors)
    TapAdPlatforms(config=sandbox.config(**{setting: f"https://ads.example.com/{path}"}))
    TapAdPlatforms(config=sandbox.config(**{setting: f"http://localhost:{sandbox.url.rsplit(':', 1)[1]}/{path}"}))
