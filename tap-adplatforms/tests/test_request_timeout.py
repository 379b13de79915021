"""``request_timeout`` against the sandbox's ``slow`` fault over real HTTP: retried, nothing lost; then one line."""

from __future__ import annotations

from collections import Counter

import pytest
from adplatforms_testkit import truth_by_day
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError
from tap_adplatforms.tap import TapAdPlatforms

PLATFORMS = ("meta", "google_ads", "tiktok")
NO_ANSWER = "no answer in time"
# Every platform's API (not Google's OAuth token endpoint, which keeps the SDK's own 60 s).
API_PATHS = ("/meta", "/googleads/v", "/tiktok")


def test_answers_later_than_the_timeout_are_retried_and_nothing_is_lost(sandbox, run_tap):
    before = sandbox.control("GET", "stats")["faults_injected"]
    sandbox.faults(*({"type": "slow", "seconds": 4, "path": path, "count": 2} for path in API_PATHS))
    config = sandbox.config(request_timeout=1)
    output = run_tap(config)
    assert sandbox.control("GET", "stats")["faults_injected"] - before == 6
    assert sandbox.control("GET", "faults")["faults"] == []
    assert output.log.count(NO_ANSWER) >= 6  # each slow answer was given up after 1 s and asked again
    keys = Counter((r["platform"], r["account_id"], r["campaign_id"], r["date"])
                   for r in output.records["ad_spend_daily"])  # fmt: skip
    assert [key for key, n in keys.items() if n > 1] == []
    for platform in PLATFORMS:
        want = truth_by_day(sandbox.truth(platform), config["start_date"], config["end_date"])
        assert output.spend_by_day(platform) == want, platform


def test_no_answer_on_every_try_ends_the_run_with_one_line_naming_the_setting(sandbox, run_tap):
    sandbox.faults({"type": "slow", "seconds": 2, "path": "/tiktok", "always": True})
    with pytest.raises(FatalAPIError) as caught:
        run_tap(sandbox.config("tiktok", request_timeout=0.5, request_max_tries=2))
    sandbox.control("DELETE", "faults")
    message = str(caught.value)
    assert message.startswith("TikTok account 7000000000001: no answer from ")
    assert message.endswith(
        " within request_timeout (0.5 s), 2 tries in a row, so the run stopped (state keeps "
        "what was loaded). What to do: run again later; if the platform's answers are merely "
        "slow, raise request_timeout."
    )
    assert "\n" not in message


@pytest.mark.parametrize("value", [0, -5, "soon", float("inf")])
def test_a_request_timeout_not_above_0_is_refused_at_start(sandbox, value):
    with pytest.raises(ConfigValidationError) as caught:
        TapAdPlatforms(config=sandbox.config(request_timeout=value)).sync_all()
    assert [error for error in caught.value.errors if "request_timeout" in error], caught.value.errors
