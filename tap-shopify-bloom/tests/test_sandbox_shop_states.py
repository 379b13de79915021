"""A frozen or locked shop, a shop without Shopify Payments and expired bulk operations, from the sandbox over HTTP."""

from __future__ import annotations

import logging

import pytest
from bloom_sandbox.testing import running_sandbox

from tests.helpers import error_lines, parse_messages, run_cli, run_sync
from tests.sandbox_client import control, shopify_stats, tap_config, truth_counts

STATES = {
    "frozen": "is frozen (402 Payment Required): its Shopify bill is unpaid",
    "locked": "is locked (423 Locked)",
}


@pytest.mark.parametrize("shop_state", STATES)
def test_a_frozen_or_locked_shop_stops_the_run_with_one_line_before_any_message(tmp_path, shop_state):
    with running_sandbox(seed=5, orders=20, months=1, shop_state=shop_state) as sandbox:
        run = run_cli(tap_config(sandbox), tmp_path)
    assert run.returncode == 1
    assert run.stdout == ""  # no SCHEMA, RECORD or STATE: a loader creates no table
    errors = error_lines(run.stderr)
    assert len(errors) == 1, errors
    assert STATES[shop_state] in errors[0]
    assert "Traceback" not in run.stderr


def test_without_shopify_payments_payouts_are_skipped_with_one_warning_and_the_rest_syncs(tmp_path):
    with running_sandbox(seed=5, orders=60, months=2, payments=False) as sandbox:
        run = run_cli(tap_config(sandbox), tmp_path)
        truth = truth_counts(sandbox)
    assert run.returncode == 0, run.stderr[-3000:]
    warnings = [line for line in run.stderr.splitlines() if "Shopify Payments is not enabled" in line]
    assert len(warnings) == 1, warnings
    assert "payouts" in warnings[0]
    assert "balance_transactions" in warnings[0]
    result = parse_messages(run.stdout.splitlines())
    assert "payouts" not in result.records
    assert "balance_transactions" not in result.records
    assert len({o["id"] for o in result.records["orders"]}) == truth["orders"] > 0
    assert len({t["id"] for t in result.records["transactions"]}) == truth["transactions"] > 0


def test_bulk_operations_that_end_expired_are_run_again_and_nothing_is_lost(caplog):
    """Shopify shows an operation whose result URL expired as EXPIRED with no url: the tap runs it again."""
    with running_sandbox(seed=4, orders=300, months=3, bulk_scale=0.001) as sandbox:
        control(sandbox, "faults", [{"type": "bulk_expired"}])
        with caplog.at_level(logging.WARNING):
            result = run_sync(tap_config(sandbox, bulk_threshold=2), streams=["orders"])
        stats = shopify_stats(sandbox)
        truth = truth_counts(sandbox)
        left = control(sandbox, "faults")["faults"]
    assert left == []  # the expired operation was served to the tap
    assert caplog.text.count("expired; running the operation again") == 1
    assert stats["bulk_expired"] == 1
    orders = result.records["orders"]
    assert len(orders) == len({o["id"] for o in orders}) == truth["orders"]
