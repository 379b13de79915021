"""On Shopify's standard plan (100 points/s) a sync waits for its points: no THROTTLED answer.

Wall time is not asserted (the machine may be loaded): the counts are. Shopify checks a
query's requested cost against the bucket before running it, so the proof is that far more
points were requested than the bucket holds while not one query was refused.
"""

from __future__ import annotations

import pytest
from bloom_sandbox.testing import running_sandbox
from tap_shopify_bloom.bulk import bulk_query_text
from tap_shopify_bloom.client import ShopifyStream
from tap_shopify_bloom.errors import MerchantActionError
from tap_shopify_bloom.streams.orders import OrdersStream
from tap_shopify_bloom.tap import TapShopifyBloom

from tests.helpers import error_lines, parse_messages, run_cli, run_sync
from tests.sandbox_client import control, shopify_stats, tap_config, truth_counts

STREAMS = ("orders", "transactions", "products", "customers", "payouts", "balance_transactions")


def test_standard_plan_sync_gets_no_throttled_answer():
    with running_sandbox(seed=3, orders=1000, months=3, plan="standard") as sandbox:
        # Every stream: pages of each, and the first request of every follow-up query
        # (counts, refund details, the Payments probe) before Shopify has priced it.
        result = run_sync(tap_config(sandbox, bulk_threshold=0), streams=["shop", *STREAMS])
        stats = shopify_stats(sandbox)
        truth = truth_counts(sandbox)
    assert stats["points_requested"] > 2 * 2000  # more than two bucketfuls ...
    assert stats["throttled"] == 0  # ... and not one query refused
    assert result.tap.bucket.throttled == 0
    assert stats["max_cost_exceeded"] == 0
    for stream in STREAMS:
        assert len({r["id"] for r in result.records[stream]}) == truth[stream], stream


def test_a_storm_of_throttled_answers_is_waited_out(tmp_path):
    """25 THROTTLED answers in a row: none counts as a failed try; the run completes whole."""
    with running_sandbox(seed=4, orders=300, months=3, plan="standard") as sandbox:
        control(sandbox, "faults", [{"type": "throttled", "count": 25}])
        done = run_cli(tap_config(sandbox, bulk_threshold=0), tmp_path)
        stats = shopify_stats(sandbox)
        truth = truth_counts(sandbox)
    assert stats["throttled"] == 25  # the whole storm was answered to the tap
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert not error_lines(done.stderr)
    orders = parse_messages(done.stdout.splitlines()).records["orders"]
    assert len(orders) == len({o["id"] for o in orders}) == truth["orders"]


def test_bulk_operations_wait_out_throttled_answers():
    """Submitting and polling a bulk operation go through the same THROTTLED handling."""
    with running_sandbox(seed=4, orders=300, months=3, plan="standard", bulk_scale=0.001) as sandbox:
        stream = TapShopifyBloom(config=tap_config(sandbox)).streams["orders"]
        assert isinstance(stream, OrdersStream)
        control(sandbox, "faults", [{"type": "throttled", "count": 10}])
        operation_id = stream.bulk.submit(bulk_query_text("orders", "updated_at:>='2026-01-01T00:00:00Z'"))
        control(sandbox, "faults", [{"type": "throttled", "count": 10}])
        operation = stream.bulk.wait(operation_id)
        stats = shopify_stats(sandbox)
    assert stats["throttled"] == 20
    assert stats["bulk_created"] == 1
    assert operation["status"] == "COMPLETED"
    assert stream.bucket.throttled == 20


def test_throttled_past_the_budget_ends_with_one_line_naming_it(monkeypatch):
    monkeypatch.setattr(ShopifyStream, "throttle_budget_seconds", 2.0)
    with running_sandbox(seed=4, orders=50, months=1, plan="standard") as sandbox:
        control(sandbox, "faults", [{"type": "throttled", "always": True}])
        with pytest.raises(MerchantActionError) as refused:
            run_sync(tap_config(sandbox, bulk_threshold=0), streams=["orders"])
        throttled = shopify_stats(sandbox)["throttled"]
    message = str(refused.value)
    assert "\n" not in message
    assert "THROTTLED" in message
    assert "throttle budget of 2 s" in message
    assert 2 <= throttled <= 8  # waited between tries (0.5 s at least), not a hot loop
