"""Replays of recorded exchanges in each API's documented shapes, against the real hosts' URLs.

The tap runs with its default ``https://`` base URLs; vcrpy answers from the cassette and
refuses any request that was not recorded. The expected spend is read straight from the
recorded response bodies, independently of the tap's parsing.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import requests
import yaml
from adplatforms_cassettes import DIR, player, replay_config


def _recorded(platform: str) -> list[tuple[str, str, dict]]:
    cassette = yaml.safe_load((DIR / f"{platform}.yaml").read_text())
    return [
        (i["request"]["method"], i["request"]["uri"], json.loads(i["response"]["body"]["string"]))
        for i in cassette["interactions"]
    ]


def _expected_spend(platform: str) -> dict[str, Decimal]:
    days: dict[str, Decimal] = {}

    def add(day: str, amount: Decimal) -> None:
        days[day] = days.get(day, Decimal(0)) + amount

    for method, uri, body in _recorded(platform):
        if platform == "meta" and method == "GET" and uri.split("?")[0].endswith("/insights"):
            for row in body["data"]:
                add(row["date_start"], Decimal(row["spend"]))
        if platform == "google_ads" and "searchStream" in uri:
            for batch in body:
                for row in batch.get("results", []):
                    if "segments" in row:
                        add(row["segments"]["date"], Decimal(row["metrics"].get("costMicros", "0")) / 10**6)
        if platform == "tiktok" and "/report/integrated/get/" in uri:
            for row in body["data"]["list"]:
                add(row["dimensions"]["stat_time_day"][:10], Decimal(row["metrics"]["spend"]))
    return days


@pytest.mark.parametrize(
    ("platform", "account_id"), [("meta", "1001"), ("google_ads", "1234567890"), ("tiktok", "7000000000001")]
)
def test_replay_emits_the_recorded_spend(run_tap, platform, account_id):
    with player(platform) as cassette:
        output = run_tap(replay_config(platform))
    assert cassette.all_played
    assert output.spend_by_day(platform) == {account_id: _expected_spend(platform)}
    assert [r["account_id"] for r in output.records[f"{platform}_ad_accounts"]] == [account_id]
    assert output.records[f"{platform}_campaigns"]


def test_cassettes_hold_no_secrets():
    from bloom_sandbox.ads import credentials

    text = "".join(path.read_text() for path in DIR.glob("*.yaml"))
    for name in dir(credentials):
        value = getattr(credentials, name)
        if name.isupper() and ("TOKEN" in name or "SECRET" in name):
            assert value not in text, name


def test_meta_cassette_has_an_async_report_run():
    methods = [(m, u.split("?")[0].rsplit("/", 1)[-1]) for m, u, _ in _recorded("meta")]
    assert ("POST", "insights") in methods
    statuses = [b.get("async_status") for m, u, b in _recorded("meta") if m == "GET" and "async_status" in b]
    assert statuses == ["Job Running", "Job Completed"]


@pytest.mark.parametrize("platform", ["meta", "google_ads", "tiktok"])
def test_each_answer_is_parsed_once(run_tap, monkeypatch, platform):
    """Validation, parsing and paging share one parse of each answer's JSON."""
    parsed: list[requests.Response] = []
    json_of = requests.Response.json

    def counted(self: requests.Response, **kwargs: object) -> object:
        parsed.append(self)
        return json_of(self, **kwargs)

    monkeypatch.setattr(requests.Response, "json", counted)
    with player(platform) as cassette:
        run_tap(replay_config(platform))
    assert len(parsed) >= cassette.play_count - 1  # every answer (Google's token answer is read by the authenticator)
    assert len({id(response) for response in parsed}) == len(parsed)
