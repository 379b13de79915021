"""Rate limits, quotas and token expiry: the tap waits or refreshes, then finishes with the truth."""

from __future__ import annotations

from adplatforms_testkit import truth_by_day


def _check_truth(sandbox, output, platform):
    want = truth_by_day(sandbox.truth(platform), sandbox.days_ago(60), sandbox.today)
    assert output.spend_by_day(platform) == {a: d for a, d in want.items() if d}


def test_google_access_token_is_refreshed_when_rejected(sandbox, run_tap):
    sandbox.faults({"type": "google_ads_expire_tokens", "after": 1})
    output = run_tap(sandbox.config("google_ads"))
    stats = sandbox.stats("google_ads")
    assert stats["expired_tokens"] == 1
    assert stats["token_requests"] == 2
    assert "access token rejected (OAuth token in the header has expired). What to do" in output.log
    _check_truth(sandbox, output, "google_ads")


def test_google_quota_error_waits_and_retries(sandbox, run_tap):
    sandbox.faults({"type": "google_ads_quota", "count": 2})
    output = run_tap(sandbox.config("google_ads"))
    assert sandbox.stats("google_ads")["quota_errors"] == 2
    assert "Google Ads account 1234567890: Google Ads quota exhausted" in output.log
    _check_truth(sandbox, output, "google_ads")


def test_meta_throttling_is_waited_out(sandbox, run_tap):
    sandbox.faults(
        {"type": "meta_throttle", "count": 2, "account": "1001"}, {"type": "meta_usage", "percent": 95, "count": 3}
    )
    output = run_tap(sandbox.config("meta"))
    assert sandbox.stats("meta")["throttled"] == 2
    assert "Meta account act_1001: throttled by Meta (error 80004" in output.log
    assert "API usage at 95% of Meta's business-use-case limit" in output.log
    _check_truth(sandbox, output, "meta")


def test_meta_failed_report_run_is_started_again(sandbox, run_tap):
    sandbox.faults({"type": "meta_job_failed", "count": 1})
    output = run_tap(sandbox.config("meta"))
    assert "ended as 'Job Failed'" in output.log
    _check_truth(sandbox, output, "meta")


def test_tiktok_rate_limit_code_is_retried(sandbox, run_tap):
    sandbox.faults({"type": "tiktok_rate_limit", "count": 3})
    output = run_tap(sandbox.config("tiktok"))
    assert sandbox.stats("tiktok")["rate_limited"] == 3
    assert "TikTok account 7000000000001: rate limited by TikTok (code 40100" in output.log
    _check_truth(sandbox, output, "tiktok")


def test_server_errors_are_retried(sandbox, run_tap):
    sandbox.faults(
        {"type": "http_error", "status": 503, "path": "/googleads/v", "count": 2},
        {"type": "meta_server_error", "count": 1},
        {"type": "tiktok_system_error", "count": 1},
    )
    output = run_tap(sandbox.config())
    for platform in ("meta", "google_ads", "tiktok"):
        _check_truth(sandbox, output, platform)
