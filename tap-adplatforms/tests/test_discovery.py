"""Discovery: a platform's streams exist only when its settings are given."""

from __future__ import annotations

import pytest
from tap_adplatforms.tap import TapAdPlatforms

PLATFORMS = ("meta", "google_ads", "tiktok")


def discovered(config: dict) -> dict[str, list[str]]:
    """The catalog `--discover` writes: stream name -> key properties."""
    catalog = TapAdPlatforms(config=config).catalog_dict
    return {entry["tap_stream_id"]: list(entry["key_properties"]) for entry in catalog["streams"]}


def test_only_meta_configured_lists_only_meta_streams_and_ad_spend(sandbox):
    assert discovered(sandbox.config("meta")) == {
        "meta_ad_accounts": ["account_id"],
        "meta_campaigns": ["account_id", "campaign_id"],
        "ad_spend_daily": ["platform", "account_id", "campaign_id", "date"],
    }


@pytest.mark.parametrize("platforms", [("google_ads",), ("tiktok",), ("meta", "tiktok"), PLATFORMS])
def test_each_configured_platform_brings_its_accounts_and_campaigns(sandbox, platforms):
    want = {f"{p}_{kind}" for p in platforms for kind in ("ad_accounts", "campaigns")} | {"ad_spend_daily"}
    assert set(discovered(sandbox.config(*platforms))) == want


def test_all_three_platforms_list_all_seven_streams(sandbox):
    assert sorted(discovered(sandbox.config())) == [
        "ad_spend_daily",
        "google_ads_ad_accounts",
        "google_ads_campaigns",
        "meta_ad_accounts",
        "meta_campaigns",
        "tiktok_ad_accounts",
        "tiktok_campaigns",
    ]


def test_platform_streams_have_their_own_schema_with_the_join_columns(sandbox):
    catalog = TapAdPlatforms(config=sandbox.config()).catalog_dict
    schemas = {entry["tap_stream_id"]: entry["schema"] for entry in catalog["streams"]}
    for platform in PLATFORMS:
        assert list(schemas[f"{platform}_ad_accounts"]["properties"]) == [
            "platform",
            "account_id",
            "name",
            "currency",
            "timezone",
            "status",
            "extra_fields",
        ]
        assert list(schemas[f"{platform}_campaigns"]["properties"]) == [
            "platform",
            "account_id",
            "campaign_id",
            "name",
            "status",
            "objective",
            "extra_fields",
        ]
    # The descriptions are each platform's own: Google's objective is its advertising channel type.
    assert "advertising_channel_type" in schemas["google_ads_campaigns"]["properties"]["objective"]["description"]
