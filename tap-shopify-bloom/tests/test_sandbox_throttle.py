"""On Shopify's standard plan (100 points/s) a sync waits for its points: no THROTTLED answer.

Wall time is not asserted (the machine may be loaded): the counts are. Shopify checks a
query's requested cost against the bucket before running it, so the proof is that far more
points were requested than the bucket holds while not one query was refused.
"""

from __future__ import annotations

from bloom_sandbox.testing import running_sandbox

from tests.helpers import run_sync
from tests.sandbox_client import shopify_stats, tap_config, truth_counts

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
