"""``request_timeout`` against the sandbox's ``slow`` fault over real HTTP: retried, nothing lost; then one line."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
import requests

from tests.helpers import costs_by_order, latest_labels, run_tap, sandbox_config, sandbox_stats, sandbox_truth

PROVIDERS = ("shipstation", "shippo")
NO_ANSWER = "no answer in time (request_timeout 1 s)"
RAW_KEYS = {"shipstation_shipments": "shipmentId", "shippo_transactions": "object_id", "shippo_refunds": "object_id"}


def set_faults(url: str, *faults: dict) -> None:
    requests.post(f"{url}/_sandbox/faults", json={"faults": list(faults)}, timeout=10).raise_for_status()


def test_answers_later_than_the_timeout_are_retried_and_nothing_is_lost(fresh_sandbox, tmp_path):
    url = fresh_sandbox.url
    before = sandbox_stats(url)["faults_injected"]
    set_faults(url, *({"type": "slow", "seconds": 4, "path": f"/{provider}", "count": 2} for provider in PROVIDERS))
    run = run_tap(tmp_path, sandbox_config(url, request_timeout=1))
    assert run.returncode == 0, run.stderr
    assert sandbox_stats(url)["faults_injected"] - before == 4
    assert run.stderr.count(NO_ANSWER) >= 4  # each slow answer was given up after 1 s and asked again
    truth = sandbox_truth(url)
    labels = latest_labels(run)
    for provider in PROVIDERS:
        assert len([key for key in labels if key[0] == provider]) == truth[provider]["labels"] > 0
        want = {order: Decimal(cost) for order, cost in truth[provider]["label_cost_by_order"].items()}
        assert costs_by_order(labels, provider) == want, provider
    for stream, key in RAW_KEYS.items():
        ids = Counter(record[key] for record in run.records[stream])
        assert [id_ for id_, n in ids.items() if n > 1] == [], stream
    assert len(run.records["shipstation_shipments"]) == truth["shipstation"]["labels"]
    assert len(run.records["shippo_transactions"]) == truth["shippo"]["labels"]


def test_no_answer_on_every_try_ends_the_run_with_one_line_naming_the_setting(fresh_sandbox, tmp_path):
    set_faults(fresh_sandbox.url, {"type": "slow", "seconds": 2, "path": "/shippo", "always": True})
    run = run_tap(tmp_path, sandbox_config(fresh_sandbox.url, request_timeout=0.5), streams={"shippo_refunds"})
    assert run.returncode == 1
    line = next(line for line in run.stderr.splitlines() if "tries in a row" in line)
    assert line.endswith(
        "Shippo account 'sandbox-shippo': no answer from /refunds/ within request_timeout (0.5 s), "
        "5 tries in a row; the run stopped and the bookmarks are kept: run again later; if the "
        "answers are merely slow, raise request_timeout"
    )
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("value", [0, -1, "soon"])
def test_a_request_timeout_not_above_0_is_refused_at_start(fresh_sandbox, tmp_path, value):
    run = run_tap(tmp_path, sandbox_config(fresh_sandbox.url, request_timeout=value))
    assert run.returncode == 1
    assert run.records == {}
    errors = [line for line in run.stderr.splitlines() if "request_timeout" in line]
    assert len(errors) == 1, run.stderr
    assert "change request_timeout" in errors[0]
    assert "Traceback" not in run.stderr
