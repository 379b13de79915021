"""The ``pii`` setting: personal fields kept, hashed (as tap-shopify-bloom hashes) or dropped, and new fields'
values kept only with ``keep``; a wrong value stops the tap with one line naming the setting."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from tap_shipping.client import EXTRA_FIELDS

from tests.helpers import run_tap, sandbox_config
from tests.test_cassettes import SHIPPO, SHIPSTATION
from tests.test_new_fields import sync, with_new_fields

NEW_FIELD = {"giftNote": "Happy birthday, Yoda!"}  # a field the tap does not know: personal or not, it cannot tell
SHIPSTATION_PERSON = {
    "customerEmail": " Yoda@Dagobah.example ",
    **NEW_FIELD,
    "shipTo": {
        "name": "Yoda",
        "company": "Jedi Council",
        "street1": "12223 LOWDEN LN",
        "street2": "Swamp hut 2",
        "street3": "Back door",
        "city": "MANCHACA",
        "state": "TX",
        "postalCode": "78652-3602",
        "country": "US",
        "phone": "2101235544",
        "residential": True,
    },
}
SHIPPO_PERSON = {
    "created_by": {"first_name": "Shwan", "last_name": "Ippotle", "username": "shwan@shippo.example"},
    **NEW_FIELD,
}  # the cassette's objects have object_owner
# Every personal field of each raw stream (shipping_labels has none).
PERSONAL = {
    "shipstation_shipments": [
        "customerEmail",
        "shipTo.name",
        "shipTo.company",
        "shipTo.street1",
        "shipTo.street2",
        "shipTo.street3",
        "shipTo.phone",
        "shipTo.city",
        "shipTo.postalCode",
    ],
    "shippo_transactions": ["object_owner", "created_by.first_name", "created_by.last_name", "created_by.username"],
    "shippo_refunds": ["object_owner"],
}
NOT_PERSONAL = {
    "shipstation_shipments": ["shipTo.state", "shipTo.country", "orderNumber", "trackingNumber"],
    "shippo_transactions": ["metadata", "tracking_number"],
    "shippo_refunds": ["transaction"],
}
CASES = [
    ("shipstation_shipments.yaml", SHIPSTATION, SHIPSTATION_PERSON, ["shipstation_shipments"]),
    ("shippo_transactions.yaml", SHIPPO, SHIPPO_PERSON, ["shippo_transactions", "shippo_refunds"]),
]


def value(record: dict[str, Any], path: str) -> Any:
    parent, _, child = path.rpartition(".")
    holder = record.get(parent) if parent else record
    return holder.get(child) if isinstance(holder, dict) else None


def expected(original: Any, mode: str) -> Any:
    """tap-shopify-bloom's rule: SHA-256 of the trimmed, lower-cased value; blanks and drop: null."""
    if mode == "drop" or original is None or not str(original).strip():
        return None
    return hashlib.sha256(str(original).strip().lower().encode()).hexdigest()


@pytest.mark.parametrize(("name", "config", "person", "streams"), CASES, ids=["shipstation", "shippo"])
def test_personal_fields_are_kept_hashed_or_dropped(tmp_path, name, config, person, streams):
    with_new_fields(name, tmp_path, person)
    runs = {mode: sync({**config, "pii": mode}, tmp_path, name).records for mode in ("keep", "hash", "drop")}
    default = sync(config, tmp_path, name).records
    for stream in streams:
        kept = runs["keep"][stream]
        assert kept, stream
        for field in PERSONAL[stream]:  # the records hold a value of each personal field: the test can fail
            assert any(value(r, field) for r in kept), (stream, field)
        assert all(
            r[EXTRA_FIELDS] == {**NEW_FIELD, **{k: v for k, v in person.items() if k not in r}}
            or r[EXTRA_FIELDS] == NEW_FIELD
            for r in kept
        )  # keep: as now, values and all
        assert default[stream] == runs["hash"][stream]  # hash is the default
        for mode in ("hash", "drop"):
            for original, got in zip(kept, runs[mode][stream], strict=True):
                for field in PERSONAL[stream]:
                    assert value(got, field) == expected(value(original, field), mode), (mode, stream, field)
                for field in NOT_PERSONAL[stream]:
                    assert value(got, field) == value(original, field), (mode, stream, field)
                assert got[EXTRA_FIELDS] == dict.fromkeys(original[EXTRA_FIELDS])  # names, not values
    for mode in ("hash", "drop"):  # the labels carry no personal field: the same whatever the setting
        assert runs[mode]["shipping_labels"] == runs["keep"]["shipping_labels"]


def test_shipstation_email_hash_joins_shopify_email_hash(tmp_path):
    """The same rule as tap-shopify-bloom: one customer's email gives one hash in both taps."""
    with_new_fields("shipstation_shipments.yaml", tmp_path, SHIPSTATION_PERSON)
    records = sync({**SHIPSTATION, "pii": "hash"}, tmp_path, "shipstation_shipments.yaml").records
    shopify_hash = hashlib.sha256(b"yoda@dagobah.example").hexdigest()
    assert {r["customerEmail"] for r in records["shipstation_shipments"]} == {shopify_hash}


@pytest.mark.parametrize("args", [(), ("--discover",)], ids=["sync", "discover"])
@pytest.mark.parametrize("wrong", ["mask", "HASH", ""])
def test_a_wrong_pii_is_refused_with_one_line_naming_it(tmp_path, args, wrong):
    run = run_tap(tmp_path, sandbox_config("http://127.0.0.1:9", pii=wrong), args=args)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert not run.records
    errors = [line for line in run.stderr.splitlines() if "ERROR" in line and "Config validation failed" not in line]
    assert len(errors) == 1, run.stderr
    assert "pii" in errors[0]
    assert all(option in errors[0] for option in ("keep", "hash", "drop")), errors[0]
