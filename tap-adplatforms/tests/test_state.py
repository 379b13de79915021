"""State per account: trailing re-read windows, first-sync order and history resume."""

from __future__ import annotations

from datetime import date, timedelta

from adplatforms_testkit import truth_by_day


def test_lookback_picks_up_revised_days(sandbox, run_tap):
    first = run_tap(sandbox.config())
    before = {p: sandbox.truth(p) for p in ("meta", "google_ads", "tiktok")}
    sandbox.control("POST", "advance", {"days": 2})
    second = run_tap(sandbox.config(end_date=sandbox.today), state=first.state)
    for platform in ("meta", "google_ads", "tiktok"):
        truth = sandbox.truth(platform)
        for account_id, days in second.spend_by_day(platform).items():
            want = truth_by_day({account_id: truth[account_id]}, min(days), max(days))[account_id]
            assert days == want, (platform, account_id)
            revised = [
                d
                for d in days
                if d in before[platform][account_id]["spend"]
                and before[platform][account_id]["spend"][d] != truth[account_id]["spend"][d]
            ]
            assert revised, f"{platform} {account_id}: no revised day was re-read"
            first_days = first.spend_by_day(platform)[account_id]
            assert any(first_days[d] != days[d] for d in revised if d in first_days)


def test_second_run_reads_only_the_trailing_window(sandbox, run_tap):
    first = run_tap(sandbox.config())
    second = run_tap(sandbox.config(), state=first.state)
    today = date.fromisoformat(sandbox.today)
    for platform, lookback in (("meta", 28), ("google_ads", 30), ("tiktok", 7)):
        days = sorted({r["date"] for r in second.records["ad_spend_daily"] if r["platform"] == platform})
        bookmark = max(first.partition(platform, a)["replication_key_value"] for a in first.spend_by_day(platform))
        assert days[0] == (date.fromisoformat(bookmark) - timedelta(days=lookback - 1)).isoformat(), platform
        assert days[-1] <= today.isoformat()
    second_lookback = run_tap(sandbox.config(tiktok_lookback_days=3), state=first.state)
    tiktok_days = {r["date"] for r in second_lookback.records["ad_spend_daily"] if r["platform"] == "tiktok"}
    assert len(tiktok_days) == 3


def test_first_sync_reads_recent_days_then_history_by_month(sandbox, run_tap):
    output = run_tap(sandbox.config("tiktok", start_date=sandbox.days_ago(80)))
    days = [r["date"] for r in output.records["ad_spend_daily"]]
    recent = days[: days.index(min(days))]
    # The account days of the last 7 x 24 hours first (today and the 7 before it) ...
    assert sorted(set(recent)) == [sandbox.days_ago(n) for n in range(7, -1, -1)]
    history = days[len(recent) :]
    assert history == sorted(history)  # then history, oldest first
    state = output.partition("tiktok", "7000000000001")
    assert state["history"] == {"until": sandbox.days_ago(8), "next": None}
    assert state["replication_key_value"] == sandbox.today


def test_interrupted_backfill_resumes_at_first_unfinished_month(sandbox, run_tap):
    month = date.fromisoformat(sandbox.days_ago(40)).replace(day=1).isoformat()
    state = {
        "bookmarks": {
            "ad_spend_daily": {
                "partitions": [
                    {
                        "context": {"platform": "tiktok", "account_id": "7000000000001"},
                        "history": {"until": sandbox.days_ago(7), "next": month},
                    }
                ]
            }
        }
    }
    output = run_tap(sandbox.config("tiktok", start_date=sandbox.days_ago(200)), state=state)
    days = {r["date"] for r in output.records["ad_spend_daily"]}
    assert min(days) == month  # finished months are not fetched again
    assert output.partition("tiktok", "7000000000001")["history"]["next"] is None


def test_killed_backfill_resumes_from_its_last_state(sandbox, run_tap):
    """A run that dies mid-history leaves state that lets the next run skip the months it finished."""
    config = sandbox.config("tiktok", start_date=sandbox.days_ago(400), request_max_tries=1)
    sandbox.faults({"type": "tiktok_system_error", "after": 10, "always": True})
    broken = run_tap(config, fails=True)
    assert "TikTok account 7000000000001: temporary TikTok error 50000" in str(broken.error)
    resume_from = broken.partition("tiktok", "7000000000001")["history"]["next"]
    assert sandbox.days_ago(400) < resume_from < sandbox.days_ago(7)
    sandbox.faults()
    resumed = run_tap(config, state=broken.state)
    history_days = {r["date"] for r in resumed.records["ad_spend_daily"] if r["date"] < sandbox.days_ago(7)}
    assert min(history_days) == resume_from
    merged = broken.spend_by_day("tiktok")["7000000000001"] | resumed.spend_by_day("tiktok")["7000000000001"]
    assert merged == truth_by_day(sandbox.truth("tiktok"), config["start_date"], sandbox.today)["7000000000001"]
    assert resumed.partition("tiktok", "7000000000001")["history"]["next"] is None


def test_start_date_beyond_37_months_is_clamped_for_meta_and_google(sandbox, run_tap):
    """Both APIs refuse daily figures older than 37 months; the tap starts there and says so."""
    config = sandbox.config("meta", "google_ads", start_date=sandbox.days_ago(4 * 365), meta_account_ids=["act_1002"])
    output = run_tap(config)
    assert "the API keeps daily figures for 37 months only" in output.log
    for platform in ("meta", "google_ads"):
        want = truth_by_day(sandbox.truth(platform), config["start_date"], sandbox.today)
        got = output.spend_by_day(platform)
        assert got == {a: d for a, d in want.items() if a in got}
