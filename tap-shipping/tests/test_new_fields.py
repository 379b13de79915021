"""A field a provider adds to its objects is kept in the raw record's extra_fields, and its name (never its
value) is logged once per stream; the documented objects carry no field the schemas do not have."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import requests
import vcr
import yaml
from singer_sdk.testing import TapTestRunner
from tap_shipping.client import EXTRA_FIELDS
from tap_shipping.tap import TapShipping

from tests.test_cassettes import CASSETTES, RECORDER, SHIPPO, SHIPSTATION

SECRET_VALUE = "personal-value-never-logged"
# A new field, and one named like a column the tap adds: neither may replace the tap's own.
NEW = {"brand_new_field": {"note": SECRET_VALUE, "rate": 1.25}, "account_id": "provider-side-id"}
CASES = [
    ("shipstation_shipments.yaml", SHIPSTATION, ["shipstation_shipments"]),
    ("shippo_transactions.yaml", SHIPPO, ["shippo_transactions", "shippo_refunds"]),
]


def with_new_fields(name: str, folder: Path, fields: dict | None = None) -> None:
    """The cassette ``name`` with ``fields`` (default :data:`NEW`) in every listed object, written to ``folder``."""
    cassette = yaml.safe_load((CASSETTES / name).read_text())
    for interaction in cassette["interactions"]:
        body = interaction["response"]["body"]
        answer = json.loads(body["string"])
        for row in answer.get("shipments") or answer.get("results") or []:
            row.update(NEW if fields is None else fields)
        body["string"] = json.dumps(answer)
    (folder / name).write_text(yaml.safe_dump(cassette))


def sync(config: dict, folder: Path, name: str) -> TapTestRunner:
    runner = TapTestRunner(TapShipping, config=config)
    player = vcr.VCR(cassette_library_dir=str(folder), record_mode="none", match_on=RECORDER.match_on)
    with player.use_cassette(name, allow_playback_repeats=True) as recorded:
        runner.sync_all()
    assert recorded.all_played
    return runner


def without_extra(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in record.items() if k != EXTRA_FIELDS} for record in records]


@pytest.mark.parametrize(("name", "config", "raw_streams"), CASES)
def test_a_new_field_is_kept_in_extra_fields_and_named_once(tmp_path, caplog, name, config, raw_streams):
    config = {**config, "pii": "keep"}  # hash and drop keep only the names: test_personal.py
    with caplog.at_level(logging.WARNING):
        clean = sync(config, CASSETTES, name)
    assert "the tap does not know" not in caplog.text  # the documented objects: every field in the schema
    caplog.clear()
    with_new_fields(name, tmp_path)
    with caplog.at_level(logging.WARNING):
        spoiled = sync(config, tmp_path, name)
    for stream in raw_streams:
        assert spoiled.records[stream], stream
        assert all(record[EXTRA_FIELDS] is None for record in clean.records[stream])
        assert all(record[EXTRA_FIELDS] == NEW for record in spoiled.records[stream])
        assert all(
            record["account_id"] == config[name.split("_")[0] + "_account_id"] for record in spoiled.records[stream]
        )
        assert without_extra(spoiled.records[stream]) == without_extra(clean.records[stream])
    assert spoiled.records["shipping_labels"] == clean.records["shipping_labels"]
    warnings = [r.getMessage() for r in caplog.records if "the tap does not know" in r.getMessage()]
    assert sorted(w.split(":")[0] for w in warnings) == sorted(raw_streams), warnings  # once per stream
    assert all("fields the tap does not know: 'account_id', 'brand_new_field'." in w for w in warnings), warnings
    assert SECRET_VALUE not in caplog.text


def test_each_answer_is_parsed_once(monkeypatch):
    """Validation, parsing, paging and the second reader of a shared page use one parse of its JSON."""
    parsed: list[requests.Response] = []
    json_of = requests.Response.json

    def counted(self: requests.Response, **kwargs: object) -> object:
        parsed.append(self)
        return json_of(self, **kwargs)

    monkeypatch.setattr(requests.Response, "json", counted)
    for name, config, _streams in CASES:
        sync(config, CASSETTES, name)
    assert parsed
    assert len({id(response) for response in parsed}) == len(parsed)
