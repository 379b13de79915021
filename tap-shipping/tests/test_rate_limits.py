"""Rate limits are held from the APIs' own signals; 429s and 5xx are retried."""

from __future__ import annotations

import time
from decimal import Decimal

import requests
from tap_shipping.tap import TapShipping

from tests.conftest import api
from tests.helpers import costs_by_order, latest_labels, run_tap, sandbox_config, sandbox_stats, sandbox_truth


def shipstation_only(url: str, **extra) -> dict:
    return {k: v for k, v in sandbox_config(url, **extra).items() if not k.startswith("shippo")}


def test_shipstation_budget_from_headers_means_no_429(fresh_sandbox, tmp_path):
    api(fresh_sandbox, "shipstation").rate_limit = 1  # one request per (one-second) window
    started = time.monotonic()
    run = run_tap(tmp_path, shipstation_only(fresh_sandbox.url, start_date="2026-06-01T00:00:00Z"))
    elapsed = time.monotonic() - started
    assert run.returncode == 0, run.stderr
    stats = sandbox_stats(fresh_sandbox.url)["shipstation"]
    assert stats["requests"] >= 2  # shipments created in the window (read once), shipments voided in it
    assert stats["throttled"] == 0
    assert elapsed >= stats["requests"] - 1  # it waited for each window to reset


def test_shippo_paced_below_its_limit_means_no_429(sandbox, tmp_path):
    before = sandbox_stats(sandbox.url)["shippo"]
    run = run_tap(tmp_path, sandbox_config(sandbox.url), streams={"shippo_transactions", "shippo_refunds"})
    assert run.returncode == 0, run.stderr
    after = sandbox_stats(sandbox.url)["shippo"]
    assert after["requests"] - before["requests"] > 10  # more than one window's worth
    assert after["throttled"] == before["throttled"]


def test_shippo_429_waits_for_retry_after(fresh_sandbox, tmp_path):
    api(fresh_sandbox, "shippo").limits["list", True] = 1  # one list request per (one-second) window
    config = sandbox_config(fresh_sandbox.url, shippo_requests_per_minute=100_000)  # far too fast
    run = run_tap(tmp_path, config, streams={"shipping_labels"})
    assert run.returncode == 0, run.stderr
    assert sandbox_stats(fresh_sandbox.url)["shippo"]["throttled"] > 0
    truth = sandbox_truth(fresh_sandbox.url)
    expected = {order: Decimal(cost) for order, cost in truth["shippo"]["label_cost_by_order"].items()}
    assert costs_by_order(latest_labels(run), "shippo") == expected


def test_injected_429_5xx_resets_and_truncations_are_retried(fresh_sandbox, tmp_path):
    url = fresh_sandbox.url
    faults = [
        {"type": "rate_limited", "path": "/shipstation", "count": 2},
        {"type": "http_error", "status": 503, "path": "/shippo", "count": 2},
        {"type": "reset", "path": "/shipstation", "count": 1},
        {"type": "truncate", "path": "/shippo/transactions", "count": 1},
    ]
    requests.post(f"{url}/_sandbox/faults", json={"faults": faults}, timeout=10).raise_for_status()
    run = run_tap(tmp_path, sandbox_config(url), streams={"shipping_labels"})
    assert run.returncode == 0, run.stderr
    stats = sandbox_stats(url)
    assert stats["shipstation"]["faults"] == 2
    assert stats["faults_injected"] == 4
    assert "Backing off" in run.stderr
    truth = sandbox_truth(url)
    labels = latest_labels(run)
    assert sum(1 for provider, _ in labels if provider == "shipstation") == truth["shipstation"]["labels"]
    assert sum(1 for provider, _ in labels if provider == "shippo") == truth["shippo"]["labels"]


def test_shippo_fetches_by_id_are_paced_at_the_single_object_limit():
    """Shippo limits GETs of one object (4,000 a minute live) apart from lists (50): the tap's fetches
    of refunded older labels by id do not queue behind the list pace."""
    tap = TapShipping(config={"shippo_api_token": "shippo_live_x"}, validate_config=False)
    for name in ("shippo_transactions", "shippo_refunds"):
        stream = tap.streams[name]
        assert (stream.gate.budget, stream.gate.window) == (50, 60)
        assert (stream.single_gate.budget, stream.single_gate.window) == (4000, 60)
    assert tap.streams["shippo_transactions"].single_gate is tap.streams["shippo_refunds"].single_gate
