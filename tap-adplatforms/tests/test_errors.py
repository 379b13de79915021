"""Errors that need a person: each message names the platform, the account and the fix, never a secret."""

from __future__ import annotations

import pytest
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError
from tap_adplatforms.tap import TapAdPlatforms


def _fails(run_tap, config) -> str:
    with pytest.raises(FatalAPIError) as caught:
        run_tap(config)
    message = str(caught.value)
    assert ".)." not in message  # an API's own message quoted last keeps one full stop, not two
    for name, value in config.items():
        if "token" in name or "secret" in name:
            assert str(value) not in message
    return message


@pytest.mark.parametrize(
    ("platform", "overrides", "expected"),
    [
        (
            "meta",
            {"meta_access_token": "wrong-meta-token"},
            ["Meta account act_1001", "error 190", "set meta_access_token"],
        ),
        (
            "meta",
            {"meta_account_ids": ["act_4242"]},
            ["Meta account act_4242", "does not exist", "check meta_account_ids"],
        ),
        (
            "google_ads",
            {"google_ads_refresh_token": "wrong-refresh-token"},
            ["Google Ads", "invalid_grant", "set google_ads_refresh_token"],
        ),
        (
            "google_ads",
            {"google_ads_client_secret": "wrong-client-secret"},
            ["Google Ads", "invalid_client", "google_ads_client_secret"],
        ),
        (
            "google_ads",
            {"google_ads_developer_token": "wrong-dev-token"},
            ["Google Ads account 1234567890", "DEVELOPER_TOKEN_INVALID", "set google_ads_developer_token"],
        ),
        (
            "google_ads",
            {"google_ads_login_customer_id": "111-111-1111"},
            ["Google Ads account 1234567890", "USER_PERMISSION_DENIED", "google_ads_login_customer_id"],
        ),
        (
            "tiktok",
            {"tiktok_access_token": "wrong-tiktok-token"},
            ["TikTok account 7000000000001", "code 40105", "set tiktok_access_token"],
        ),
        (
            "tiktok",
            {"tiktok_advertiser_ids": ["7000000000999"]},
            ["TikTok account 7000000000999", "code 40001", "check tiktok_advertiser_ids"],
        ),
    ],
)
def test_refused_requests_say_what_to_do(sandbox, run_tap, platform, overrides, expected):
    message = _fails(run_tap, sandbox.config(platform, **overrides))
    for part in expected:
        assert part in message


def test_retries_give_up_with_a_clear_message(sandbox, run_tap):
    """What kept failing, that the run stopped, and what to do: not the retry warning's "the tap retries"."""
    sandbox.faults({"type": "tiktok_rate_limit", "always": True})
    with pytest.raises(FatalAPIError) as caught:
        run_tap(sandbox.config("tiktok", request_max_tries=2))
    message = str(caught.value)
    assert message.startswith("TikTok account 7000000000001: rate limited by TikTok (code 40100")
    assert "still failing after 2 tries, so the run stopped" in message
    assert "What to do: run again later" in message
    assert "the tap retries" not in message
    assert "What to do" in message.split("still failing", 1)[1]  # one fix, after what happened


@pytest.mark.parametrize(("setting", "url"), [("meta_api_url", "http://127.0.0.1:9/meta"),
                                              ("tiktok_api_url", "http://127.0.0.1:9/tiktok")])  # fmt: skip
def test_an_unreachable_api_url_names_the_setting_and_the_fix(sandbox, run_tap, setting, url):
    platform = setting.removesuffix("_api_url")
    message = _fails(run_tap, sandbox.config(platform, **{setting: url}, request_max_tries=1))
    assert message == (
        f"{'Meta account act_1001' if platform == 'meta' else 'TikTok account 7000000000001'}: "
        f"cannot reach {setting} {url} (ConnectionError) after 1 try. What to do: check {setting} "
        "(leave it out for the platform's own API) and the network."
    )


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"meta_api_url": "http://graph.example.com"}, "meta_api_url must be an https:// URL"),
        ({"tiktok_api_url": "ftp://127.0.0.1/x"}, "tiktok_api_url must be an https:// URL"),
        ({"tiktok_access_token": None}, "TikTok is partly configured: set tiktok_access_token"),
        ({"google_ads_customer_ids": ["abc"]}, "google_ads_customer_ids holds 'abc'"),
        ({"end_date": "2020-01-01"}, "end_date is before start_date"),
        ({"meta_api_version": "v19.0"}, "meta_api_version v19.0 is sunset: use v21.0"),
        ({"google_ads_api_version": "21"}, "google_ads_api_version '21' is not an API version"),
        ({"start_date": "2999-01-01"}, "start_date 2999-01-01 is in the future"),
        ({"meta_acount_ids": ["1001"]}, "meta_acount_ids is not a setting of tap-adplatforms"),
    ],
)
def test_settings_are_checked_at_start(sandbox, overrides, expected):
    config = {k: v for k, v in (sandbox.config() | overrides).items() if v is not None}
    with pytest.raises(ConfigValidationError) as caught:
        TapAdPlatforms(config=config)
    assert any(expected in error for error in caught.value.errors), caught.value.errors


def test_loopback_http_is_allowed_and_https_default(sandbox):
    TapAdPlatforms(config=sandbox.config(meta_api_url=sandbox.url.replace("127.0.0.1", "localhost") + "/meta"))
    config = sandbox.config("tiktok")
    config.pop("tiktok_api_url")
    TapAdPlatforms(config=config)  # https://business-api.tiktok.com by default


def test_no_platform_is_an_error_at_sync_but_discovery_works():
    tap = TapAdPlatforms(config={"start_date": "2026-01-01"})
    assert tap.catalog_dict["streams"] == []  # no platform, no stream
    with pytest.raises(ConfigValidationError) as caught:
        tap.sync_all()
    assert "No ad platform is configured" in caught.value.errors[0]


def test_secrets_never_reach_logs_or_messages(sandbox, run_tap):
    """Through token refresh, retries and a final error, no secret is written anywhere."""
    sandbox.faults(
        {"type": "google_ads_expire_tokens", "after": 1},
        {"type": "meta_throttle", "count": 1},
        {"type": "tiktok_rate_limit", "always": True},
    )
    config = sandbox.config(request_max_tries=2)
    output = run_tap(config, fails=True)
    secrets = [v for k, v in config.items() if ("token" in k or "secret" in k) and not k.endswith("_url")]
    secrets.append("ya29.")  # Google access tokens issued during the run
    assert len(secrets) == 6
    for secret in secrets:
        assert secret not in output.log
        assert secret not in output.messages
        assert secret not in str(output.error)
    assert "TikTok account 7000000000001: rate limited by TikTok" in str(output.error)


def test_a_refused_account_stops_the_run_before_any_message(sandbox, run_tap):
    """The pre-flight check reads every account of every platform before the first stream writes."""
    output = run_tap(sandbox.config(tiktok_advertiser_ids=["7000000000999"]), fails=True)
    assert "TikTok account 7000000000999" in str(output.error)
    assert output.messages == ""  # no SCHEMA, RECORD or STATE: no table is created


def test_each_account_is_read_once_per_run(sandbox, run_tap, monkeypatch):
    """The pre-flight answer serves <platform>_ad_accounts and ad_spend_daily: one source per platform."""
    from tap_adplatforms.meta_streams import MetaSource

    reads: list[str] = []
    read_account = MetaSource.read_account

    def counted(self, account_id):
        reads.append(account_id)
        return read_account(self, account_id)

    monkeypatch.setattr(MetaSource, "read_account", counted)
    output = run_tap(sandbox.config("meta"))
    assert sorted(reads) == ["1001", "1002"]
    assert sorted(r["account_id"] for r in output.records["meta_ad_accounts"]) == ["1001", "1002"]
