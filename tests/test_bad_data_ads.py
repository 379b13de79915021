"""Bad data from the ad platforms: a clear error naming the stream and record, or the documented tolerance;
state never advances past data that was not loaded.

The real tap-adplatforms console script reads the sandbox through a local HTTP proxy that
spoils the daily spend answers of one platform (Meta insights, Google Ads searchStream,
TikTok's integrated report): a row without its campaign id, a day of the wrong type,
malformed JSON, a field the platform added. For a bad row, the first spend answer of a run
passes clean and later ones are spoiled, so that a failed run has loaded something first.
After a failed run, the tap runs again from the last STATE it emitted through a clean
proxy: together the two runs must have emitted every record a clean run emits.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from _helpers import TODAY, ads_config, run_tap
from _proxy import (
    Proxy,
    Spoil,
    clean_messages,
    error_lines,
    fails_then_recovers,
    last_state,
    messages,
    records_but,
    spoil_matrix,
)
from werkzeug import Request

from bloom_suite.processes import Sandbox, running_sandbox


@dataclass(frozen=True)
class Platform:
    """Where one platform's spend answers are and how to find their rows."""

    name: str
    label: str  # how messages name the account
    settings: tuple[str, ...]  # its settings in ads_config
    picks: Callable[[Request], bool]
    rows: Callable[[Any], list[dict]]
    campaign: Callable[[dict], dict]  # the object holding the campaign id, under the key ``id_key``
    id_key: str
    day_holder: Callable[[dict], dict]  # the object holding the day, under ``day_key``
    day_key: str


def _google_rows(answer: Any) -> list[dict]:
    return [row for batch in answer for row in batch.get("results") or []]


PLATFORMS = {
    "meta": Platform(
        "meta",
        "Meta account act_1001",
        ("meta_",),
        picks=lambda r: r.method == "GET" and r.path.endswith("/insights"),
        rows=lambda answer: answer.get("data") or [],
        campaign=lambda row: row,
        id_key="campaign_id",
        day_holder=lambda row: row,
        day_key="date_start",
    ),
    "google_ads": Platform(
        "google_ads",
        "Google Ads account 1234567890",
        ("google_ads_",),
        picks=lambda r: r.path.endswith(":searchStream") and b"segments.date" in r.get_data(),
        rows=_google_rows,
        campaign=lambda row: row["campaign"],
        id_key="id",
        day_holder=lambda row: row["segments"],
        day_key="date",
    ),
    "tiktok": Platform(
        "tiktok",
        "TikTok account 7000000000001",
        ("tiktok_",),
        picks=lambda r: r.path.endswith("/report/integrated/get/"),
        rows=lambda answer: (answer.get("data") or {}).get("list") or [],
        campaign=lambda row: row["dimensions"],
        id_key="campaign_id",
        day_holder=lambda row: row["dimensions"],
        day_key="stat_time_day",
    ),
}


NEW_VALUE = {"note": "a value that is never logged", "n": 1}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Iterator[Sandbox]:
    log = tmp_path_factory.mktemp("sandbox") / "sandbox.log"
    with running_sandbox(seed=5, orders=150, now=TODAY.isoformat(), log_path=log) as server:
        yield server


def config(platform: Platform, url: str) -> dict:
    """ads_config with only ``platform``'s settings."""
    full = ads_config(url)
    others = [p for p in PLATFORMS.values() if p is not platform]
    return {k: v for k, v in full.items() if not any(k.startswith(o.settings) for o in others)}


def spend_keys(msgs: list[dict]) -> set[tuple]:
    return {(m["record"]["account_id"], m["record"]["campaign_id"], m["record"]["date"])
            for m in msgs if m["type"] == "RECORD" and m["stream"] == "ad_spend_daily"}  # fmt: skip


@pytest.fixture(scope="module")
def clean_runs(sandbox, tmp_path_factory) -> dict[str, list[dict]]:
    """Per platform, the messages of a clean run."""
    found = {name: clean_messages("tap-adplatforms", sandbox, tmp_path_factory.mktemp(name), platform.picks,
                                  lambda url, platform=platform: config(platform, url))
             for name, platform in PLATFORMS.items()}  # fmt: skip
    assert all(len(spend_keys(msgs)) > 20 for msgs in found.values()), {n: len(m) for n, m in found.items()}
    return found


def later_answers(platform: Platform, spoil_row: Callable[[Platform, dict], str]) -> tuple[Spoil, list[str]]:
    """Spoil the first row of every spend answer but the first; the list collects what names each spoiled row."""
    seen, names = [0], []

    def spoil(answer: Any) -> str | None:
        seen[0] += 1
        rows = platform.rows(answer)
        if seen[0] < 2 or not rows:
            return None
        names.append(spoil_row(platform, rows[0]))
        return json.dumps(answer)

    return spoil, names


def without_campaign_id(platform: Platform, row: dict) -> str:
    """Drop the row's campaign id; the row is named by its day."""
    platform.campaign(row).pop(platform.id_key)
    return str(platform.day_holder(row)[platform.day_key])[:10]


def day_as_number(platform: Platform, row: dict) -> str:
    """The day (the bookmark field) as a number; the row is named by its campaign."""
    platform.day_holder(row)[platform.day_key] = 20261101
    return str(platform.campaign(row)[platform.id_key])


# (case, how a row is spoiled); the error names the field (its path holds "campaign") or the wrong value
REFUSED = [("a row without its campaign id", without_campaign_id), ("the day of the wrong type", day_as_number)]
FIELD = {without_campaign_id: "campaign", day_as_number: "20261101"}


@pytest.mark.parametrize(("name", "case", "spoil_row"), spoil_matrix(list(PLATFORMS), REFUSED))
def test_a_bad_row_stops_the_run_with_one_line_and_its_state_loses_nothing(
        httpserver, sandbox, tmp_path, clean_runs, name, case, spoil_row):  # fmt: skip
    platform = PLATFORMS[name]
    proxy = Proxy(httpserver, sandbox, platform.picks)
    proxy.spoil, names = later_answers(platform, spoil_row)
    loaded: list[set] = []

    def keys(msgs: list[dict]) -> set[tuple]:
        loaded.append(spend_keys(msgs))
        return loaded[-1]

    expected = lambda: ("ad_spend_daily", platform.label, FIELD[spoil_row], names[0])  # noqa: E731 (known after the run)
    fails_then_recovers(
        "tap-adplatforms", config(platform, proxy.url), proxy, tmp_path, keys, spend_keys(clean_runs[name]), expected
    )
    assert loaded[0], "the spoiled run loaded nothing before it failed: the test would prove little"


@pytest.mark.parametrize("name", PLATFORMS)
def test_malformed_json_is_retried_and_a_new_field_kept(httpserver, sandbox, tmp_path, clean_runs, name):
    """The first spend answer is garbled (a transient fault: retried), every other one carries a field the
    platform added: each spend record keeps it in extra_fields, one warning names it (not its value), and
    the run otherwise equals the clean run (every record of every stream, and the state)."""
    platform = PLATFORMS[name]
    proxy = Proxy(httpserver, sandbox, platform.picks)
    garbled = [0]

    def spoil(answer: Any) -> str | None:
        if not garbled[0]:
            garbled[0] += 1
            return json.dumps(answer)[:200]
        for row in platform.rows(answer):
            row["brand_new_field"] = NEW_VALUE
        return json.dumps(answer)

    proxy.spoil = spoil
    done = run_tap("tap-adplatforms", config(platform, proxy.url), tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert proxy.spoiled > 2
    assert "was not complete JSON" in done.stderr
    got, clean = messages(done.stdout), clean_runs[name]
    spend = [m["record"] for m in got if m["type"] == "RECORD" and m["stream"] == "ad_spend_daily"]
    assert spend
    assert all(record["extra_fields"] == {"brand_new_field": NEW_VALUE} for record in spend)
    assert all(m["record"]["extra_fields"] is None for m in clean if m["type"] == "RECORD")
    assert records_but(got, "extra_fields") == records_but(clean, "extra_fields")
    assert last_state(got) == last_state(clean)
    named = [line for line in done.stderr.splitlines() if "the tap does not know" in line]
    assert len(named) == 1, named
    assert all(text in named[0] for text in ("ad_spend_daily: ", platform.label, "'brand_new_field'", "extra_fields"))
    assert NEW_VALUE["note"] not in done.stderr


def test_malformed_json_that_persists_ends_in_one_line(httpserver, sandbox, tmp_path):
    """Retries give up with one line saying what failed and what to do (the same code for every platform)."""
    platform = PLATFORMS["tiktok"]
    proxy = Proxy(httpserver, sandbox, platform.picks)
    proxy.spoil = lambda answer: json.dumps(answer)[:200]
    done = run_tap("tap-adplatforms", config(platform, proxy.url) | {"request_max_tries": 2}, tmp_path)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    expected = (platform.label, "was not complete JSON", "still failing after 2 tries", "What to do: run again later")
    assert any(all(text in line for text in expected) for line in error_lines(done.stderr)), expected


def test_a_campaign_without_its_id_stops_the_run_with_one_line(httpserver, sandbox, tmp_path):
    """The campaigns stream reads its rows the same way (it is read whole on every run: no state to check)."""
    platform = PLATFORMS["meta"]
    proxy = Proxy(httpserver, sandbox, lambda r: r.method == "GET" and r.path.endswith("/campaigns"))

    def drop_id(answer: Any) -> str:
        answer["data"][-1].pop("id")
        return json.dumps(answer)

    proxy.spoil = drop_id
    done = run_tap("tap-adplatforms", config(platform, proxy.url), tmp_path)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    expected = (
        "campaigns: Meta account act_1001: the record of campaign (none) (row ",
        ") has no id. What to do: run again (campaigns are read whole on every run)",
    )
    assert any(all(text in line for text in expected) for line in error_lines(done.stderr)), expected
