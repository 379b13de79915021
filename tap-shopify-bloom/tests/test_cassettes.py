"""Replays Shopify answers recorded in their documented shapes (vcrpy, recording off)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import vcr
from tap_shopify_bloom.errors import MerchantActionError

from tests.helpers import run_sync

CASSETTES = Path(__file__).parent / "cassettes"
OPERATION = re.compile(r"^\s*(?:query|mutation)\s+(\w+)")


def operation_name(body: bytes | str | None) -> str | None:
    payload = json.loads(body or b"{}")
    if "operationName" in payload:
        return payload["operationName"]
    match = OPERATION.match(payload.get("query", ""))
    return match.group(1) if match else None


def same_operation(recorded, sent) -> None:
    assert operation_name(recorded.body) == operation_name(sent.body)


replay = vcr.VCR(
    cassette_library_dir=str(CASSETTES),
    record_mode="none",
    match_on=["method", "scheme", "host", "path", "operation"],
    filter_headers=["X-Shopify-Access-Token"],
)
replay.register_matcher("operation", same_operation)

CONFIG = {
    "store": "bloom-demo",
    "access_token": "shpat_not_a_real_token",
    # Inside the first live window: one query per stream, no history windows.
    "start_date": (datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
}


def test_recorded_shop_and_orders():
    with replay.use_cassette("shop_and_orders.yaml") as cassette:
        result = run_sync(CONFIG, streams=["shop", "orders"])
    # Every recorded operation was asked for. (Whether the orders stream's own run counts its
    # window again depends on the clock: once the recorded order's update time lies before
    # start_date, its window is the early live window's, whose count is remembered.)
    played = {operation_name(cassette.requests[i].body) for i, n in cassette.play_counts.items() if n}
    assert played == {operation_name(request.body) for request in cassette.requests}
    shop = result.records["shop"][0]
    assert (shop["shop"], shop["currency"], shop["iana_timezone"]) == ("bloom-demo", "EUR", "Europe/Berlin")
    row = result.records["orders"][0]
    assert row["id"] == "gid://shopify/Order/5990211404067"
    assert (row["total_price"], row["total_price_presentment"]) == ("59.38", "64.13")
    assert (row["currency"], row["presentment_currency"], row["channel"]) == ("EUR", "USD", "Online Store")
    assert row["refunds"][0]["refund_line_items"][0] == {
        "id": "gid://shopify/RefundLineItem/556677",
        "line_item_id": "gid://shopify/LineItem/15377217552675",
        "quantity": 1,
        "restock_type": "RETURN",
        "subtotal": "20.00",
        "subtotal_presentment": "21.60",
        "total_tax": "3.80",
        "total_tax_presentment": "4.10",
    }
    assert row["email_hash"] != "jane@example.com"
    assert result.tap.bucket.throttled == 1  # the recorded THROTTLED answer was waited out and retried


def test_recorded_invalid_token():
    with replay.use_cassette("invalid_token.yaml"), pytest.raises(MerchantActionError, match="401"):
        run_sync(CONFIG, streams=["shop"])


@pytest.mark.parametrize(
    ("cassette", "message"),
    [
        ("frozen_shop.yaml", r"bloom-demo is frozen \(402 Payment Required\).*pay the outstanding balance"),
        ("locked_shop.yaml", r"bloom-demo is locked \(423 Locked\).*contact Shopify Support"),
    ],
)
def test_recorded_unavailable_shop(cassette, message):
    with replay.use_cassette(cassette) as recorded, pytest.raises(MerchantActionError, match=message):
        run_sync(CONFIG, streams=["shop"])
    assert recorded.all_played  # one answer, not retried: waiting does not unfreeze a shop
