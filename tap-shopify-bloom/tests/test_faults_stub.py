"""Transient faults are retried; merchant errors stop the sync with a message to act on."""

from __future__ import annotations

import json
import logging
import re
import socket
import time

import pytest
from tap_shopify_bloom.client import ShopifyStream
from tap_shopify_bloom.errors import MerchantActionError
from tap_shopify_bloom.throttle import connection_factor
from werkzeug import Response

from tests.factories import order
from tests.helpers import run_sync
from tests.stub import cost_block


@pytest.fixture(autouse=True)
def no_backoff_sleep(monkeypatch):
    monkeypatch.setattr(ShopifyStream, "retry_base_seconds", 0.01)


def json_response(payload, status=200, headers=None):
    return Response(json.dumps(payload), status=status, content_type="application/json", headers=headers)


THROTTLED = {
    "errors": [
        {
            "message": "Throttled",
            "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
        }
    ],
    "extensions": {"cost": {**cost_block(available=0), "actualQueryCost": None, "requestedQueryCost": 5}},
}


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(lambda body: json_response(THROTTLED), id="throttled"),
        pytest.param(lambda body: json_response({"errors": "An unexpected error occurred"}, status=500), id="500"),
        pytest.param(lambda body: json_response({"errors": "Service unavailable"}, status=503), id="503"),
        pytest.param(
            lambda body: Response('{"data": {"orders": {"pageInf', content_type="application/json"), id="truncated"
        ),
        pytest.param(lambda body: json_response({"errors": "Too many requests"}, status=429), id="429"),
    ],
)
def test_transient_faults_are_retried_without_loss(stub, stub_config, fault):
    stub.data["orders"] = [order(1000, 1), order(1001, 2)]
    stub.faults = [fault, fault]
    result = run_sync(stub_config, streams=["orders"])
    assert sorted(r["id"] for r in result.records["orders"]) == ["gid://shopify/Order/1000", "gid://shopify/Order/1001"]
    assert len({r["id"] for r in result.records["orders"]}) == len(result.records["orders"])


def test_a_retry_is_one_warning_not_an_error(stub, stub_config, caplog):
    # A run that succeeds logs no ERROR line; each retry is one warning saying why.
    stub.data["orders"] = [order(1000, 1)]
    stub.faults = [lambda body: json_response({"errors": "Service unavailable"}, status=503)]
    with caplog.at_level(logging.INFO):
        result = run_sync(stub_config, streams=["orders"])
    assert len(result.records["orders"]) == 1
    assert [r.levelname for r in caplog.records if r.levelno >= logging.ERROR] == []
    retries = [r.getMessage() for r in caplog.records if "Backing off" in r.getMessage()]
    assert len(retries) == 1
    assert re.fullmatch(r"shop: Backing off [\d.]+ s after try 1 of 8: Shopify answered 503; retrying", retries[0])


def test_unreachable_store_is_one_error(stub_config, monkeypatch, caplog):
    monkeypatch.setattr(ShopifyStream, "retry_base_seconds", 0.0)
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = {**stub_config, "api_url": f"http://127.0.0.1:{port}"}
    with caplog.at_level(logging.INFO), pytest.raises(MerchantActionError) as caught:
        run_sync(config)
    assert str(caught.value) == (
        f"Cannot reach Shopify at http://127.0.0.1:{port} (connection refused, 8 tries). Check `store` and, "
        "if set, `api_url`, and that this machine can reach it."
    )
    assert [r.levelname for r in caplog.records if "Backing off" in r.getMessage()] == ["WARNING"] * 7
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_timeout_is_retried(stub, stub_config, monkeypatch):
    monkeypatch.setattr(ShopifyStream, "timeout", 0.3)
    stub.data["orders"] = [order(1000, 1), order(1001, 2)]

    def too_slow(body):
        if not body["query"].startswith("query Orders("):
            return None
        time.sleep(1.0)  # the tap gives up after 0.3 s and asks again
        return stub.answer(body)

    stub.faults = [too_slow]
    result = run_sync(stub_config, streams=["orders"])
    assert sorted(r["id"] for r in result.records["orders"]) == ["gid://shopify/Order/1000", "gid://shopify/Order/1001"]
    pages = [json.dumps(r, sort_keys=True) for r in stub.requests if r["query"].startswith("query Orders(")]
    assert len(pages) > len(set(pages))  # a page timed out and was asked for again (more than once if slow)


def test_throttled_answer_waits_for_the_bucket(stub, stub_config):
    stub.data["orders"] = [order(1000, 1)]
    stub.faults = [lambda body: json_response(THROTTLED)]
    result = run_sync(stub_config, streams=["orders"])
    bucket = result.tap.bucket
    assert bucket.throttled == 1
    # For the 5 points it lacked at 100/s (less what refilled meanwhile): no blind or fixed pause.
    assert 0 < bucket.waited_seconds <= 0.05


def test_max_cost_exceeded_shrinks_the_page(stub, stub_config):
    stub.data["orders"] = [order(1000 + i, 1) for i in range(3)]
    refused = {
        "errors": [
            {
                "message": "Query cost is 1204, which exceeds the single query max cost limit (1000).",
                "extensions": {"code": "MAX_COST_EXCEEDED", "cost": 1204, "maxCost": 1000},
            }
        ]
    }
    stub.faults = [lambda body: json_response(refused) if body["query"].startswith("query Orders(") else None]
    result = run_sync(stub_config, streams=["orders"])
    assert len(result.records["orders"]) == 3
    pages = [r for r in stub.requests if r["query"].startswith("query Orders(")]
    assert pages[1]["variables"]["first"] < pages[0]["variables"]["first"]


def test_invalid_token_names_the_setting(stub, stub_config):
    with pytest.raises(MerchantActionError) as caught:
        run_sync({**stub_config, "access_token": "shpat_revoked"}, streams=["shop"])
    assert "401" in str(caught.value)
    assert "`access_token`" in str(caught.value)


def test_access_denied_names_the_scope(stub, stub_config):
    denied = {
        "data": {"orders": None},
        "errors": [
            {
                "message": "Access denied for orders field. Required access: `read_orders` access scope.",
                "locations": [{"line": 2, "column": 3}],
                "path": ["orders"],
                "extensions": {
                    "code": "ACCESS_DENIED",
                    "documentation": "https://shopify.dev/api/usage/access-scopes",
                    "requiredAccess": "`read_orders` access scope.",
                },
            }
        ],
        "extensions": {"cost": cost_block()},
    }
    stub.faults = [lambda body: json_response(denied)]
    with pytest.raises(MerchantActionError) as caught:
        run_sync(stub_config, streams=["orders"])
    assert "`read_orders`" in str(caught.value)


def test_unknown_store_is_reported(stub, stub_config):
    stub.faults = [lambda body: json_response({"errors": "Not Found"}, status=404)]
    with pytest.raises(MerchantActionError, match="Store not found"):
        run_sync(stub_config, streams=["shop"])


def test_retired_version_and_deprecations_are_logged(stub, stub_config, caplog):
    def old_version(body):
        answer = stub.answer(body)
        answer.headers["X-Shopify-API-Version"] = "2026-01"
        answer.headers["X-Shopify-API-Deprecated-Reason"] = (
            "https://shopify.dev/api/usage/versioning#deprecation-practices"
        )
        return answer

    stub.faults = [old_version]
    with caplog.at_level(logging.WARNING):
        result = run_sync({**stub_config, "api_version": "2025-01"}, streams=["shop"])
    assert result.records["shop"]
    assert "served API version 2026-01 instead of 2025-01" in caplog.text
    assert "deprecated API use" in caplog.text


def test_payouts_skipped_when_shopify_payments_is_off(stub, stub_config, caplog):
    stub.payments_enabled = False
    stub.data["orders"] = [order(1000, 1)]
    with caplog.at_level(logging.WARNING):
        result = run_sync(stub_config, streams=["shop", "orders", "payouts", "balance_transactions"])
    assert len(result.records["orders"]) == 1
    assert "payouts" not in result.records
    warnings = [r.getMessage() for r in caplog.records if "Shopify Payments is not enabled" in r.getMessage()]
    assert len(warnings) == 1  # one warning for both streams
    assert warnings[0].startswith("payouts and balance_transactions skipped")
    asked = [r for r in stub.requests if r["query"].lstrip().startswith(("query Payouts", "query BalanceTransactions"))]
    assert asked == []  # no window was fetched ...
    for stream in ("payouts", "balance_transactions"):  # ... nor recorded: enabling Payments later gets all
        assert "windows" not in result.state["bookmarks"].get(stream, {})


def test_missing_read_all_orders_is_warned_about(stub, stub_config, caplog):
    stub.scopes = ("read_orders", "read_products")
    stub.data["orders"] = [order(1000, 1)]
    with caplog.at_level(logging.WARNING):
        result = run_sync({**stub_config, "start_date": "2025-01-01"}, streams=["orders"])
    assert len(result.records["orders"]) == 1
    assert "lacks the scope `read_all_orders`" in caplog.text


def test_paced_by_the_bucket_without_throttled_answers(stub, stub_config):
    stub.data["orders"] = [order(1000 + i, 1) for i in range(60)]
    stub.bucket = (60.0, 100.0)  # tiny bucket: every few pages the tap must wait
    stub.data["orders"] = [order(1000 + i, 1) for i in range(300)]
    stub.level, stub.level_at = 60.0, time.monotonic()
    result = run_sync(stub_config, streams=["orders"])
    assert len(result.records["orders"]) == 300
    pages = [r for r in stub.requests if r["query"].startswith("query Orders(")]
    requested = sum(2 + 3 * connection_factor(r["variables"]["first"]) for r in pages)
    assert requested > 2 * 60  # more than two bucketfuls were requested
    assert result.tap.bucket.waited_seconds > 0  # so it waited ...
    assert stub.throttled == 0  # ... exactly enough: never refused
