"""The tap against recorded answers in the shapes ShipStation and Shippo document (no network)."""

from __future__ import annotations

from hashlib import sha256
from pathlib import Path

import pytest
import vcr
from singer_sdk.testing import TapTestRunner
from tap_shipping.tap import TapShipping

CASSETTES = Path(__file__).parent / "cassettes"
RECORDER = vcr.VCR(
    cassette_library_dir=str(CASSETTES),
    record_mode="none",  # never reach the network: an unrecorded request fails the test
    match_on=("method", "scheme", "host", "port", "path", "query"),
    filter_headers=["authorization"],
)
SHIPSTATION = {
    "shipstation_api_key": "recorded-key",
    "shipstation_api_secret": "recorded-secret",
    "shipstation_account_id": "acme-ss",
}
SHIPPO = {
    "shippo_api_token": "shippo_live_recorded",
    "shippo_account_id": "acme-shippo",
    "shippo_requests_per_minute": 6000,
}


def sync(config: dict, cassette: str) -> TapTestRunner:
    runner = TapTestRunner(TapShipping, config=config)
    # allow_playback_repeats: the raw streams and shipping_labels ask for the same pages.
    with RECORDER.use_cassette(cassette, allow_playback_repeats=True) as recorded:
        runner.sync_all()
    assert recorded.all_played
    return runner


def by_id(records: list[dict]) -> dict[str, dict]:
    return {record["label_id"]: record for record in records}


def test_shipstation_documented_shipments():
    runner = sync(SHIPSTATION, "shipstation_shipments.yaml")
    labels = by_id(runner.records["shipping_labels"])
    assert labels["33974374"] == {
        "provider": "shipstation",
        "account_id": "acme-ss",
        "label_id": "33974374",
        "order_ref": "#100038",
        "order_ref_match": "order_number",
        "carrier": "USPS",
        "service": "usps_first_class_mail",
        "label_cost": "1.93",
        "insurance_cost": "0.00",
        "other_fees": "0.00",
        "currency": "USD",
        "voided": False,
        "voided_at": None,
        "created_at": "2014-10-03T13:51:33.627000+00:00",  # PDT: +7 hours
        "ship_date": "2014-10-03",
        "tracking_number": "9400111899561704681189",
    }
    assert labels["33974373"]["insurance_cost"] == "0.50"
    voided = labels["34112260"]
    assert voided["created_at"] == "2014-12-20T07:15:02.100000+00:00"  # PST: +8 hours, next UTC day
    assert voided["voided"] is True
    assert voided["voided_at"] == "2014-12-22T17:03:11.000000+00:00"
    assert (voided["carrier"], voided["order_ref"]) == ("UPS", "#100045")
    raw = {r["shipmentId"]: r for r in runner.records["shipstation_shipments"]}
    assert raw[33974374]["createDate"] == "2014-10-03T06:51:33.627"  # as sent
    assert raw[33974374]["shipTo"] == {  # pii: hash (the default); blanks stay null
        "name": sha256(b"yoda").hexdigest(),
        "company": None,
        "street1": sha256(b"12223 lowden ln").hexdigest(),
        "street2": None,
        "street3": None,
        "city": sha256(b"manchaca").hexdigest(),
        "state": "TX",
        "postalCode": sha256(b"78652-3602").hexdigest(),
        "country": "US",
        "phone": sha256(b"2101235544").hexdigest(),
        "residential": None,
    }


def test_shippo_documented_transactions_and_refunds():
    runner = sync(SHIPPO, "shippo_transactions.yaml")
    labels = by_id(runner.records["shipping_labels"])
    assert labels["915d94940ea54c3a80cbfa328722f5a1"] == {
        "provider": "shippo",
        "account_id": "acme-shippo",
        "label_id": "915d94940ea54c3a80cbfa328722f5a1",
        "order_ref": "#1042",
        "order_ref_match": "metadata",
        "carrier": "USPS",
        "service": "usps_priority",
        "label_cost": "7.35",
        "insurance_cost": "0.00",
        "other_fees": "0.00",
        "currency": "USD",
        "voided": False,
        "voided_at": None,
        "created_at": "2024-06-12T18:04:06.163000+00:00",
        "ship_date": None,
        "tracking_number": "9499907123456123456781",
    }
    refunded = labels["4503427478ea45a899e9b54abc4c5803"]
    assert (refunded["voided"], refunded["voided_at"]) == (True, "2024-06-11T08:00:00.900000+00:00")
    assert (refunded["order_ref"], refunded["label_cost"]) == ("#1040", "11.20")
    assert len(runner.records["shippo_transactions"]) == 2  # both pages, following the next link
    assert runner.records["shippo_refunds"][0]["transaction"] == "4503427478ea45a899e9b54abc4c5803"


def test_next_link_to_another_host_is_refused(tmp_path):
    cassette = (CASSETTES / "shippo_transactions.yaml").read_text()
    (tmp_path / "evil.yaml").write_text(
        cassette.replace(
            '"next": "https://api.goshippo.com/transactions/', '"next": "https://collector.example/transactions/'
        )
    )
    runner = TapTestRunner(TapShipping, config=SHIPPO)
    with (
        vcr.VCR(cassette_library_dir=str(tmp_path), record_mode="none", match_on=RECORDER.match_on).use_cassette(
            "evil.yaml"
        ),
        pytest.raises(Exception, match="refusing to send the token there"),
    ):
        runner.sync_all()
