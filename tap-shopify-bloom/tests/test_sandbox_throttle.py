"""On Shopify's standard plan (100 points/s) a sync waits for its points: no THROTTLED answer."""

from __future__ import annotations

from bloom_sandbox.testing import running_sandbox

from tests.helpers import run_sync
from tests.sandbox_client import shopify_stats, tap_config, truth_counts


def test_standard_plan_sync_gets_no_throttled_answer():
    with running_sandbox(seed=3, orders=1000, months=3, plan="standard") as sandbox:
        result = run_sync(tap_config(sandbox, bulk_threshold=0), streams=["orders", "transactions"])
        stats = shopify_stats(sandbox)
        truth = truth_counts(sandbox)
    # Shopify checks a query's requested cost against the bucket before running it: more
    # than two bucketfuls (2000) were requested in a few seconds ...
    assert stats["points_requested"] > 2 * 2000
    assert stats["throttled"] == 0  # ... and none was refused
    assert stats["max_cost_exceeded"] == 0
    assert len({r["id"] for r in result.records["orders"]}) == truth["orders"]
    assert len({r["id"] for r in result.records["transactions"]}) == truth["transactions"]
