"""The tap against the sandbox over HTTP: what it emits equals the sandbox's ground truth."""

from __future__ import annotations

from decimal import Decimal

from adplatforms_testkit import truth_by_day

PLATFORMS = ("meta", "google_ads", "tiktok")


def test_spend_equals_truth_for_full_history(sandbox, run_tap):
    """Two years, three platforms, four accounts: every account-day's spend matches the truth."""
    config = sandbox.config(start_date=sandbox.world.store.history_start.date().isoformat())
    output = run_tap(config)
    for platform in ("meta", "google_ads", "tiktok"):
        want = truth_by_day(sandbox.truth(platform), config["start_date"], config["end_date"])
        assert output.spend_by_day(platform) == want, platform
    assert {r["platform"] for r in output.records["ad_spend_daily"]} == {"meta", "google_ads", "tiktok"}
    # Per-API limits were honoured (the emulators refuse longer ranges), and Meta used both paths.
    meta = sandbox.stats("meta")
    assert meta["report_runs"] >= 24
    assert meta["insights_sync"] >= 2
    assert "too_much_data" not in meta
    assert "range_too_long" not in sandbox.stats("tiktok")


def test_accounts_and_campaigns_match_the_platforms(sandbox, run_tap):
    """Each platform's accounts and campaigns land in its own streams, equal to what the sandbox serves."""
    from bloom_sandbox.ads.spend import ACCOUNTS, campaigns

    output = run_tap(sandbox.config())
    accounts: dict[tuple[str, str], dict] = {}
    for platform in PLATFORMS:
        records = output.records[f"{platform}_ad_accounts"]
        assert {r["platform"] for r in records} == {platform}
        got = {r["account_id"]: (r["name"], r["currency"], r["timezone"]) for r in records}
        want = {
            account_id: (block["name"], block["currency"], block["timezone"])
            for account_id, block in sandbox.truth(platform).items()
        }
        assert got == want, platform
        assert len(records) == len(got)  # one record per account
        accounts |= {(platform, r["account_id"]): r for r in records}
        got_campaigns = sorted(
            (r["platform"], r["account_id"], r["campaign_id"], r["name"], r["status"], r["objective"])
            for r in output.records[f"{platform}_campaigns"]
        )
        want_campaigns = sorted(
            (a.platform, a.account_id, c.campaign_id, c.name, c.status, c.objective)
            for a in ACCOUNTS
            if a.platform == platform
            for c in campaigns(a)
        )
        assert got_campaigns == want_campaigns, platform
    assert set(accounts) == {
        ("meta", "1001"),
        ("meta", "1002"),
        ("google_ads", "1234567890"),
        ("tiktok", "7000000000001"),
    }
    assert accounts[("tiktok", "7000000000001")]["currency"] == "EUR"
    campaigns_of = {
        (r["platform"], r["account_id"], r["campaign_id"])
        for platform in PLATFORMS
        for r in output.records[f"{platform}_campaigns"]
    }
    spent_on = {(r["platform"], r["account_id"], r["campaign_id"]) for r in output.records["ad_spend_daily"]}
    assert spent_on <= campaigns_of
    for record in output.records["ad_spend_daily"]:
        account = accounts[(record["platform"], record["account_id"])]
        assert (record["currency"], record["account_timezone"]) == (account["currency"], account["timezone"])


def test_google_cost_micros_are_converted_exactly(sandbox, run_tap):
    output = run_tap(sandbox.config("google_ads"))
    spends = [r["spend"] for r in output.records["ad_spend_daily"]]
    assert any(len(s.split(".")[1]) == 6 for s in spends)  # micros survive, not rounded to cents
    assert output.spend_by_day("google_ads") == truth_by_day(
        sandbox.truth("google_ads"), sandbox.days_ago(60), sandbox.today
    )


def test_only_configured_platforms_appear(sandbox, run_tap):
    output = run_tap(sandbox.config("tiktok"))
    assert set(output.records) == {"tiktok_ad_accounts", "tiktok_campaigns", "ad_spend_daily"}
    for records in output.records.values():
        assert {r["platform"] for r in records} == {"tiktok"}
    assert sandbox.stats("meta").get("requests", 0) == 0
    assert sandbox.stats("google_ads").get("requests", 0) == 0


def test_paging_follows_meta_cursors_and_tiktok_pages(sandbox, run_tap, monkeypatch):
    """With small pages every answer spans several pages; nothing is lost or read twice."""
    from tap_adplatforms import meta_streams, tiktok_streams

    monkeypatch.setattr(meta_streams, "PAGE_LIMIT", 4)
    monkeypatch.setattr(tiktok_streams, "PAGE_SIZE", 5)
    output = run_tap(sandbox.config("meta", "tiktok"))
    for platform in ("meta", "tiktok"):
        want = truth_by_day(sandbox.truth(platform), sandbox.days_ago(60), sandbox.today)
        assert output.spend_by_day(platform) == want
        keys = [
            (r["account_id"], r["campaign_id"], r["date"])
            for r in output.records["ad_spend_daily"]
            if r["platform"] == platform
        ]
        assert len(keys) == len(set(keys))
    rows = {p: sum(r["platform"] == p for r in output.records["ad_spend_daily"]) for p in ("meta", "tiktok")}
    assert sandbox.stats("meta")["requests"] >= rows["meta"] / 4
    assert sandbox.stats("tiktok")["requests"] >= rows["tiktok"] / 5


def test_results_match_the_platforms_figures(sandbox, run_tap):
    """Impressions, clicks, conversions and their value land as each platform reported them."""
    from bloom_sandbox.ads.spend import ACCOUNTS, SpendModel

    output = run_tap(sandbox.config())
    model = SpendModel(sandbox.world)
    figures = {
        (a.platform, a.account_id, cid, day.isoformat()): f for a in ACCOUNTS for (cid, day), f in model.rows(a).items()
    }
    assert output.records["ad_spend_daily"]
    for record in output.records["ad_spend_daily"]:
        want = figures[(record["platform"], record["account_id"], record["campaign_id"], record["date"])]
        assert (record["impressions"], record["clicks"]) == (want.impressions, want.clicks)
        assert Decimal(str(record["conversions"])) == want.conversions
        assert Decimal(record["conversion_value"]) == want.conversion_value
