"""``backfill: false`` reads only the recent days; a later default run reads the history from state
(the sandbox over real HTTP)."""

from __future__ import annotations

from collections import Counter

from adplatforms_testkit import truth_by_day

PLATFORMS = ("meta", "google_ads", "tiktok")


def keys(records: list[dict]) -> list[tuple[str, str, str, str]]:
    return [(r["platform"], r["account_id"], r["campaign_id"], r["date"]) for r in records]


def test_recent_days_first_then_the_history_from_state(sandbox, run_tap):
    config = sandbox.config(start_date=sandbox.days_ago(90))
    recent = run_tap({**config, "backfill": False})
    first = recent.records["ad_spend_daily"]
    # Only the account days of the last 7 x 24 hours (today and the 7 before it); each
    # account's history pending in its state.
    assert {r["date"] for r in first} == {sandbox.days_ago(n) for n in range(8)}
    for platform in PLATFORMS:
        for account_id in recent.spend_by_day(platform):
            history = recent.partition(platform, account_id)["history"]
            assert history == {"until": sandbox.days_ago(8), "next": sandbox.days_ago(90)}, (platform, account_id)

    full = run_tap(config, state=recent.state)
    second = full.records["ad_spend_daily"]
    assert not [k for k, n in Counter(keys(first)).items() if n > 1], "a row emitted twice in the first run"
    assert not [k for k, n in Counter(keys(second)).items() if n > 1], "a row emitted twice in the second run"
    # The second run read the history (and the trailing window, which only re-reads the recent days).
    assert min(r["date"] for r in second) == sandbox.days_ago(90)
    assert all(r["date"] >= sandbox.days_ago(6) for r in second if r["date"] > sandbox.days_ago(7))
    for platform in PLATFORMS:
        truth = truth_by_day(sandbox.truth(platform), sandbox.days_ago(90), sandbox.today)
        merged = {a: recent.spend_by_day(platform).get(a, {}) | days for a, days in full.spend_by_day(platform).items()}
        assert merged == {a: d for a, d in truth.items() if a in merged}, platform
        assert set(merged) == set(recent.spend_by_day(platform)), platform
        for account_id in merged:
            assert full.partition(platform, account_id)["history"]["next"] is None, (platform, account_id)
