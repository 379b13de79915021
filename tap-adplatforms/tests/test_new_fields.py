"""A field a platform adds to its rows is kept in the record's extra_fields, and its name (never its value)
is logged once per stream; the clean answers of each platform carry no field the tap does not know."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
import vcr
import yaml
from adplatforms_cassettes import DIR, player, replay_config
from tap_adplatforms.meta_streams import MetaSource
from tap_adplatforms.records import EXTRA_FIELDS, BadRecordError, Field, RowShape
from tap_adplatforms.tap import TapAdPlatforms
from tap_adplatforms.tiktok_streams import CAMPAIGN_FIELDS, TikTokSource

SECRET_VALUE = "personal-value-never-logged"
NEW = {"brand_new_field": {"note": SECRET_VALUE, "rate": 1.25, "tags": ["a", "b"]}}
STREAMS = ("ad_accounts", "campaigns")


def _rows(answer: Any) -> list[dict]:
    """The rows of one recorded answer that become records (account, campaigns, spend)."""
    if isinstance(answer, list):  # Google Ads searchStream: batches of results
        return [row for batch in answer for row in batch.get("results") or []]
    if isinstance(answer.get("data"), list):  # Meta lists
        return answer["data"]
    if isinstance(answer.get("data"), dict):  # TikTok: data.list
        return answer["data"].get("list") or []
    return [answer] if "timezone_name" in answer else []  # Meta's act_<id>


def _with_new_field(platform: str, folder: Path) -> Path:
    """The platform's cassette with :data:`NEW` added to every row; returns its path."""
    cassette = yaml.safe_load((DIR / f"{platform}.yaml").read_text())
    for interaction in cassette["interactions"]:
        body = interaction["response"]["body"]
        answer = json.loads(body["string"])
        for row in _rows(answer):
            row.update(NEW)
        body["string"] = json.dumps(answer)
    path = folder / f"{platform}.yaml"
    path.write_text(yaml.safe_dump(cassette))
    return path


def _without_extra(records: dict[str, list[dict]]) -> dict[str, list[dict]]:
    return {
        stream: [{k: v for k, v in r.items() if k != EXTRA_FIELDS} for r in rows] for stream, rows in records.items()
    }


@pytest.mark.parametrize("platform", ["meta", "google_ads", "tiktok"])
def test_a_new_field_is_kept_in_extra_fields_and_named_once(run_tap, tmp_path, platform):
    with player(platform):
        clean = run_tap(replay_config(platform))
    new_cassette = _with_new_field(platform, tmp_path)
    replay = vcr.VCR(record_mode="none", match_on=["method", "scheme", "host", "path", "query"])
    with replay.use_cassette(str(new_cassette)) as cassette:
        spoiled = run_tap(replay_config(platform))
    assert cassette.all_played
    streams = [f"{platform}_{kind}" for kind in STREAMS] + ["ad_spend_daily"]
    assert set(spoiled.records) == set(streams)
    for stream in streams:
        assert spoiled.records[stream], stream
        assert all(r[EXTRA_FIELDS] is None for r in clean.records[stream]), stream
        assert all(r[EXTRA_FIELDS] == NEW for r in spoiled.records[stream]), stream
    assert _without_extra(spoiled.records) == _without_extra(clean.records)  # otherwise the same run
    assert spoiled.state == clean.state
    warnings = [line for line in spoiled.log.splitlines() if "the tap does not know" in line]
    # once per stream, though every stream has several rows (ad_spend_daily: several answers)
    assert [sum(f"{stream}: " in w for w in warnings) for stream in streams] == [1, 1, 1], warnings
    assert all("'brand_new_field'" in w and "extra_fields" in w for w in warnings)
    assert "the tap does not know" not in clean.log
    assert SECRET_VALUE not in spoiled.log


def test_each_new_field_is_logged_once_per_stream(caplog):
    """Two accounts' rows with the same new field: one warning; a second new field: one more."""
    source = MetaSource(TapAdPlatforms(config=replay_config("meta")))
    row = {"id": "1", "name": "Brand", "status": "ACTIVE", "objective": "OUTCOME_SALES", "budget_hint": 5}
    with caplog.at_level(logging.WARNING):
        first = source.record("campaigns", "1001", row, "row 1")
        source.record("campaigns", "1002", {**row, "id": "2"}, "row 1")
        source.record("campaigns", "1001", {**row, "id": "3", "labels": ["x"]}, "row 2")
    assert first[EXTRA_FIELDS] == {"budget_hint": 5}
    lines = [r.getMessage() for r in caplog.records if "the tap does not know" in r.getMessage()]
    assert len(lines) == 2, lines
    assert "meta_campaigns: Meta account act_1001: Meta sent a field the tap does not know: 'budget_hint'" in lines[0]
    assert "'labels'" in lines[1]
    assert "5" not in lines[0].split("know:")[1]  # the name, not the value


def test_a_field_named_like_a_column_of_the_tap_is_kept_not_overwritten():
    """An API field called account_id or extra_fields does not replace the tap's own columns."""
    source = MetaSource(TapAdPlatforms(config=replay_config("meta")))
    row = {"id": "7", "name": "x", "account_id": "theirs", EXTRA_FIELDS: [1]}
    record = source.record("campaigns", "1001", row, "row 1")
    assert record["account_id"] == "1001"
    assert record[EXTRA_FIELDS] == {"account_id": "theirs", EXTRA_FIELDS: [1]}


def test_a_bad_row_is_refused_before_its_new_fields_are_kept():
    source = MetaSource(TapAdPlatforms(config=replay_config("meta")))
    with pytest.raises(
        BadRecordError,
        match=r"meta_campaigns: Meta account act_1001: the record of campaign "
        r"\(none\) \(row 4\) has no id",
    ):
        source.record("campaigns", "1001", {"name": "x", "brand_new_field": 1}, "row 4")


def test_an_account_without_its_currency_is_refused_naming_the_stream():
    source = MetaSource(TapAdPlatforms(config=replay_config("meta")))
    with pytest.raises(
        BadRecordError,
        match=re.escape(
            "meta_ad_accounts: Meta account act_1001: the account's record has no currency. What to do: run again"
        ),
    ):
        source.record("ad_accounts", "1001", {"id": "act_1001", "name": "x", "timezone_name": "UTC"})


def test_known_fields_are_those_read_or_left_out():
    shape = RowShape({"id": Field("campaign.id")}, left_out=frozenset({"resourceName"}))
    assert shape.known == {"campaign", "resourceName"}
    assert shape.new_fields({"campaign": {"id": 1, "new": 2}, "resourceName": "x"}) is None  # top level only
    assert shape.new_fields({"campaign": {}, "other": 0}) == {"other": 0}


def test_tiktok_campaigns_ask_for_the_fields_the_tap_reads():
    """TikTok's campaign/get sends every field unless asked for some: the tap asks for what it reads."""
    assert set(CAMPAIGN_FIELDS) == TikTokSource.shapes["campaigns"].known
