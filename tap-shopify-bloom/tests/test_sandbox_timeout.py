"""`request_timeout` and broken connections against the sandbox's `slow` and `reset` faults over real HTTP:
retried, then one line."""

from __future__ import annotations

import logging

import pytest
from bloom_sandbox.testing import running_sandbox
from tap_shopify_bloom.bulk import BulkClient
from tap_shopify_bloom.client import ShopifyStream
from tap_shopify_bloom.errors import MerchantActionError

from tests.helpers import run_sync
from tests.sandbox_client import control, shopify_stats, tap_config, truth_counts

NO_ANSWER = "no answer in time"


@pytest.fixture(scope="module")
def sandbox():
    with running_sandbox(seed=8, orders=150, months=3, plan="plus", bulk_scale=0.001) as running:
        yield running


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch, sandbox):
    monkeypatch.setattr(BulkClient, "poll_seconds", 0.05)
    monkeypatch.setattr(ShopifyStream, "retry_base_seconds", 0.05)
    yield
    control(sandbox, "faults", method="DELETE")


def ids(result, stream: str) -> list[str]:
    return [row["id"] for row in result.records.get(stream, [])]


@pytest.mark.parametrize(
    ("fault_path", "settings"),
    [("/admin/api", {"bulk_threshold": 0}), ("/admin/bulk-results", {"bulk_threshold": 5})],
    ids=["query", "bulk-download"],
)
def test_answers_later_than_the_timeout_are_retried_and_nothing_is_lost_or_doubled(
    sandbox, caplog, fault_path, settings
):
    before = control(sandbox, "stats")
    control(sandbox, "faults", [{"type": "slow", "seconds": 8, "path": fault_path, "count": 2}])
    with caplog.at_level(logging.WARNING):
        result = run_sync(tap_config(sandbox, request_timeout=2, **settings), streams=["orders", "customers"])
    after = control(sandbox, "stats")
    assert after["faults_injected"] - before["faults_injected"] == 2
    # Each slow answer was given up after 2 s and asked again (on a busy machine another
    # answer may be late too: that is the setting at work as well).
    assert caplog.text.count(NO_ANSWER) >= 2
    if fault_path == "/admin/bulk-results":
        assert after["shopify"]["bulk_completed"] > before["shopify"]["bulk_completed"]
    truth = truth_counts(sandbox)
    for stream in ("orders", "customers"):
        assert len(ids(result, stream)) == len(set(ids(result, stream))) == truth[stream], stream
    assert sum(len(o["line_items"]) for o in result.records["orders"]) == truth["line_items"]


def test_no_answer_on_every_try_ends_the_run_with_one_line_naming_the_setting(sandbox, caplog):
    control(sandbox, "faults", [{"type": "slow", "seconds": 2, "path": "/admin/api", "always": True}])
    queries = shopify_stats(sandbox)["graphql_queries"]
    with caplog.at_level(logging.WARNING), pytest.raises(MerchantActionError) as stopped:
        run_sync(tap_config(sandbox, request_timeout=0.5), streams=["orders"])
    message = str(stopped.value)
    assert message == (
        "shop: Shopify sent no answer within `request_timeout` (0.5 s), 8 tries in a row. Shopify or the network "
        "is slow: run again later (state keeps what was synced), or raise `request_timeout` (default 300 s)."
    )
    assert caplog.text.count(NO_ANSWER) == 7  # one warning per retry, then the one line
    control(sandbox, "faults", method="DELETE")
    assert shopify_stats(sandbox)["graphql_queries"] - queries <= 8


def test_a_bulk_download_broken_on_every_try_ends_the_run_with_one_line(sandbox, caplog):
    """A result file whose connection breaks try after try (mid-run, after the shop was read) is one line."""
    control(sandbox, "faults", [{"type": "reset", "path": "/admin/bulk-results", "always": True}])
    with caplog.at_level(logging.WARNING), pytest.raises(MerchantActionError) as stopped:
        run_sync(tap_config(sandbox, bulk_threshold=5), streams=["orders"])
    assert str(stopped.value).startswith(f"Cannot reach Shopify at {sandbox.url} (connection failed, 8 tries).")
    assert caplog.text.count("Backing off") == 7
