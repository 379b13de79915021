"""``backfill: false`` reads only the recent days; a later default run reads the history from state
(the sandbox over real HTTP)."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date

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


def months_of(since: str, until: str) -> list[str]:
    """The first days of the calendar months from ``since``'s to ``until``'s, oldest first."""
    day, last, firsts = date.fromisoformat(since).replace(day=1), date.fromisoformat(until), []
    while day <= last:
        firsts.append(day.isoformat())
        day = day.replace(year=day.year + day.month // 12, month=day.month % 12 + 1)
    return firsts


def test_history_line_shows_the_pending_months_and_counts_them_down(sandbox, run_tap, caplog):
    """One account's ``HISTORY:`` lines: all months pending after a quick run, one fewer per month read."""
    caplog.set_level(logging.INFO)  # as the tap logs under Meltano
    config = sandbox.config("meta", start_date=sandbox.days_ago(90))
    recent = run_tap({**config, "backfill": False})
    # The recent days are end_date and the 7 before it; the history is start_date up to the day before them.
    firsts = months_of(config["start_date"], sandbox.days_ago(8))
    pending = {
        "stream": "ad_spend_daily",
        "shop": None,
        "platform": "meta",
        "account_id": "1001",
        "months": len(firsts),
        "months_pending": len(firsts),
        "pending_from": config["start_date"],
        "pending_to": sandbox.days_ago(7),
    }
    assert len(firsts) > 1
    assert recent.history("meta", "1001") == [pending]  # once, at the start: no history read

    full = run_tap(config, state=recent.state)
    # Every account's history is announced before the first account syncs, then again at its start.
    in_order = [line.split('"account_id": "', 1)[1][:4] for line in full.log.splitlines() if "HISTORY: " in line]
    assert in_order[:3] == ["1001", "1002", "1001"], in_order
    announce, *lines = full.history("meta", "1001")
    assert announce == lines[0] == pending
    assert [line["months_pending"] for line in lines] == list(range(len(firsts), -1, -1))
    # Oldest month first: what is pending starts at the first day of the next month each time.
    assert [line["pending_from"] for line in lines[1:-1]] == firsts[1:]
    assert {line["pending_to"] for line in lines[:-1]} == {sandbox.days_ago(7)}
    assert lines[-1] == {**pending, "months_pending": 0, "pending_from": None, "pending_to": None}
    assert [line["months_pending"] for line in full.history("meta", "1002")][-1] == 0  # each account its own
