"""Label costs, voids and times emitted by the tap equal the sandbox's ground truth."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from math import ceil

import requests
from bloom_sandbox.shipping import LabelBook
from tap_shipping.timezones import PACIFIC

from tests.helpers import (
    SHIPPO_TOKEN,
    SS_SECRET,
    costs_by_order,
    latest_labels,
    run_tap,
    sandbox_config,
    sandbox_stats,
    sandbox_truth,
)

PROVIDERS = ("shipstation", "shippo")


def expected_costs(truth: dict, provider: str) -> dict[str, Decimal]:
    return {order: Decimal(cost) for order, cost in truth[provider]["label_cost_by_order"].items()}


def test_label_costs_equal_truth(sandbox, tmp_path):
    before = sandbox_stats(sandbox.url)
    run = run_tap(tmp_path, sandbox_config(sandbox.url))
    after = sandbox_stats(sandbox.url)
    assert run.returncode == 0, run.stderr
    assert SS_SECRET not in run.stderr
    assert SHIPPO_TOKEN not in run.stderr
    truth = sandbox_truth(sandbox.url)
    labels = latest_labels(run)
    for provider in PROVIDERS:
        mine = [label for (kind, _), label in labels.items() if kind == provider]
        assert len(mine) == truth[provider]["labels"] > 100
        assert sum(label["voided"] for label in mine) == truth[provider]["voided"] > 0
        assert costs_by_order(labels, provider) == expected_costs(truth, provider)
        account = "sandbox-ss" if provider == "shipstation" else "sandbox-shippo"
        assert {label["account_id"] for label in mine} == {account}
    # The raw streams carry what the APIs gave, keyed by account.
    assert len(run.records["shipstation_shipments"]) == truth["shipstation"]["labels"]
    assert len(run.records["shippo_transactions"]) == truth["shippo"]["labels"]
    assert len(run.records["shippo_refunds"]) == truth["shippo"]["voided"]
    assert {r["account_id"] for r in run.records["shippo_transactions"]} == {"sandbox-shippo"}
    # shipping_labels re-read the raw streams' pages from the page memo: one request per page, and
    # one per account before the first message (the credential check).
    requests_made = {p: after[p]["requests"] - before[p]["requests"] for p in PROVIDERS}
    assert requests_made == {
        "shipstation": ceil(truth["shipstation"]["labels"] / 500) + 1,
        "shippo": ceil(truth["shippo"]["labels"] / 100) + ceil(truth["shippo"]["voided"] / 100) + 1,
    }
    assert re.fullmatch("[0-9a-f]{64}", run.records["shipstation_shipments"][0]["shipTo"]["name"])  # pii: hash


def test_shipstation_pacific_times_become_utc(sandbox, tmp_path):
    config = {k: v for k, v in sandbox_config(sandbox.url).items() if not k.startswith("shippo")}
    run = run_tap(tmp_path, config)
    assert run.returncode == 0, run.stderr
    generated = {lb.label_id: lb for lb in LabelBook(sandbox.world.seed, sandbox.world.store).visible("shipstation")}
    labels = [r for r in run.records["shipping_labels"] if r["provider"] == "shipstation"]
    offsets = set()
    checked = 0
    for label in labels:
        truth = generated[label["label_id"]]
        local = truth.created_at.astimezone(PACIFIC)
        repeated_hour = local.fold == 1 or local.replace(fold=1).utcoffset() != local.utcoffset()
        got = datetime.fromisoformat(label["created_at"])
        expected = truth.created_at.replace(microsecond=truth.created_at.microsecond // 1000 * 1000)
        if repeated_hour:  # the wall time names two instants: the earlier one is taken
            assert got - expected in {timedelta(0), timedelta(hours=-1)}
            continue
        assert got == expected, label
        offsets.add(local.utcoffset())
        checked += 1
    assert offsets == {timedelta(hours=-7), timedelta(hours=-8)}  # both sides of daylight saving time
    assert checked > 100
    shipments = {str(s["shipmentId"]): s for s in run.records["shipstation_shipments"]}
    sample = next(s for s in shipments.values() if s["voided"])
    assert (
        datetime.fromisoformat(sample["voided_at"]).astimezone(PACIFIC).strftime("%Y-%m-%dT%H:%M:%S")
        == sample["voidDate"].split(".")[0]
    )


def test_trailing_window_picks_up_later_voids(fresh_sandbox, tmp_path):
    url = fresh_sandbox.url
    config = sandbox_config(url, lookback_days=15)
    first = run_tap(tmp_path / "1", config, streams={"shipping_labels"})
    assert first.returncode == 0, first.stderr
    requests.post(f"{url}/_sandbox/advance", json={"days": 10}, timeout=60).raise_for_status()
    second = run_tap(tmp_path / "2", config, state=first.state, streams={"shipping_labels"})
    assert second.returncode == 0, second.stderr
    truth = sandbox_truth(url)
    before, after = latest_labels(first), latest_labels(second)
    newly_voided = [
        key for key, label in after.items() if label["voided"] and key in before and not before[key]["voided"]
    ]
    assert newly_voided, "the world should void some labels bought before the first run"
    # Incremental: the second run re-reads the window only, not the whole history.
    assert len(second.records["shipping_labels"]) < len(first.records["shipping_labels"])
    merged = latest_labels(first, second)
    for provider in PROVIDERS:
        assert costs_by_order(merged, provider) == expected_costs(truth, provider)
        assert (
            sum(1 for (kind, _), lb in merged.items() if kind == provider and lb["voided"]) == truth[provider]["voided"]
        )


def test_voids_of_labels_older_than_the_window(fresh_sandbox, tmp_path):
    """A one-day window misses old labels by creation; their voids still arrive (ShipStation
    filters by void date, Shippo's refunds name the label, which is then fetched by id)."""
    url = fresh_sandbox.url
    config = sandbox_config(url, lookback_days=1)
    first = run_tap(tmp_path / "1", config, streams={"shipping_labels"})
    requests.post(f"{url}/_sandbox/advance", json={"days": 10}, timeout=60).raise_for_status()
    second = run_tap(tmp_path / "2", config, state=first.state, streams={"shipping_labels"})
    assert first.returncode == second.returncode == 0, second.stderr
    bookmark = {
        p["context"]["provider"]: p["replication_key_value"]
        for p in first.state["bookmarks"]["shipping_labels"]["partitions"]
    }
    old_voids = [
        r
        for r in second.records["shipping_labels"]
        if r["voided"] and r["created_at"] < _minus_days(bookmark[r["provider"]], 1)
    ]
    assert {r["provider"] for r in old_voids} == set(PROVIDERS)
    truth = sandbox_truth(url)
    merged = latest_labels(first, second)
    for provider in PROVIDERS:
        assert costs_by_order(merged, provider) == expected_costs(truth, provider)


def _minus_days(iso: str, days: int) -> str:
    moment = datetime.fromisoformat(iso).astimezone(UTC) - timedelta(days=days)
    return moment.isoformat(timespec="microseconds")
