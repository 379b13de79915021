"""A Google Ads quota error is retried after the retryDelay the error names (sleeps recorded, not slept)."""

from __future__ import annotations

import time

from adplatforms_testkit import truth_by_day


def test_quota_error_waits_the_retry_delay_google_names(sandbox, run_tap, monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)
    sandbox.faults({"type": "google_ads_quota", "count": 1})  # quotaErrorDetails.retryDelay: "30s"
    output = run_tap(sandbox.config("google_ads", rate_limit_max_wait_seconds=3600))
    assert sandbox.stats("google_ads")["quota_errors"] == 1
    assert waits == [30.0]
    want = truth_by_day(sandbox.truth("google_ads"), sandbox.days_ago(60), sandbox.today)
    assert output.spend_by_day("google_ads") == want
