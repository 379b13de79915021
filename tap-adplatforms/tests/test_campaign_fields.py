"""Campaign attributes and the descriptive columns of ad_spend_daily, as each platform serves them."""

from __future__ import annotations

from bloom_sandbox.ads.meta import ATTRIBUTION_SETTING
from bloom_sandbox.ads.spend import ACCOUNTS, campaigns

# What the tap writes in attribution_setting where the platform has no account-wide value.
PER_PLATFORM_ATTRIBUTION = {
    "meta": ATTRIBUTION_SETTING,
    "google_ads": "per_conversion_action",
    "tiktok": "per_ad_group",
}


def test_campaigns_carry_name_status_and_objective_of_each_platform(sandbox, run_tap):
    """Every campaign of every configured account, with the platform's own name, status and objective."""
    output = run_tap(sandbox.config())
    records = [r for platform in PER_PLATFORM_ATTRIBUTION for r in output.records[f"{platform}_campaigns"]]
    got = {
        (r["platform"], r["account_id"], r["campaign_id"]): (r["name"], r["status"], r["objective"]) for r in records
    }
    want = {
        (a.platform, a.account_id, c.campaign_id): (c.name, c.status, c.objective)
        for a in ACCOUNTS
        for c in campaigns(a)
    }
    assert got == want
    assert len(got) == len(records)  # one record per campaign


def test_spend_rows_name_their_campaign_and_attribution(sandbox, run_tap):
    """campaign_name is the campaign's name; attribution_setting is Meta's (as served) or the platform's rule."""
    output = run_tap(sandbox.config())
    names = {(a.platform, a.account_id, c.campaign_id): c.name for a in ACCOUNTS for c in campaigns(a)}
    rows = output.records["ad_spend_daily"]
    assert {r["platform"] for r in rows} == set(PER_PLATFORM_ATTRIBUTION)
    for record in rows:
        assert record["campaign_name"] == names[(record["platform"], record["account_id"], record["campaign_id"])]
        assert record["attribution_setting"] == PER_PLATFORM_ATTRIBUTION[record["platform"]], record
