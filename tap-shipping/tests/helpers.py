"""Run the tap as a subprocess, the way Meltano runs it, and collect its messages."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests
from tap_shipping.tap import TapShipping

SS_KEY, SS_SECRET, SHIPPO_TOKEN = "ss_sandbox_key", "ss_sandbox_secret", "shippo_test_sandbox"
WINDOW = 1.0  # seconds per rate-limit window in the test sandboxes (60 upstream)
# Shippo test tokens may list 10 times per window; pace a little below that, 8 at once per window.
SHIPPO_BURST = 8
SHIPPO_RPM = SHIPPO_BURST * 60 / WINDOW


@dataclass
class TapRun:
    """What one tap run wrote."""

    returncode: int
    stderr: str
    records: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    state: dict[str, Any] | None = None


def sandbox_config(url: str, **extra: Any) -> dict[str, Any]:
    """Settings for both providers of a running sandbox."""
    return {
        "shipstation_api_key": SS_KEY,
        "shipstation_api_secret": SS_SECRET,
        "shipstation_api_url": f"{url}/shipstation",
        "shipstation_account_id": "sandbox-ss",
        "shippo_api_token": SHIPPO_TOKEN,
        "shippo_api_url": f"{url}/shippo",
        "shippo_account_id": "sandbox-shippo",
        "shippo_requests_per_minute": SHIPPO_RPM,
        "shippo_burst": SHIPPO_BURST,
        "retry_initial_seconds": 0.1,
        **extra,
    }


def run_tap(
    tmp: Path,
    config: dict[str, Any],
    *,
    state: dict | None = None,
    streams: set[str] | None = None,
    args: tuple[str, ...] = (),
) -> TapRun:
    """Run ``tap-shipping`` with the config (and state, and only ``streams`` selected when given)."""
    tmp.mkdir(parents=True, exist_ok=True)
    config_path = tmp / "config.json"
    config_path.write_text(json.dumps(config))
    cmd = [sys.executable, "-m", "tap_shipping", "--config", str(config_path), *args]
    if state is not None:
        (tmp / "state.json").write_text(json.dumps(state))
        cmd += ["--state", str(tmp / "state.json")]
    if streams is not None:
        catalog = TapShipping(config=config, validate_config=False).catalog_dict
        for entry in catalog["streams"]:
            for meta in entry["metadata"]:
                if not meta["breadcrumb"]:
                    meta["metadata"]["selected"] = entry["tap_stream_id"] in streams
        (tmp / "catalog.json").write_text(json.dumps(catalog))
        cmd += ["--catalog", str(tmp / "catalog.json")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    run = TapRun(returncode=proc.returncode, stderr=proc.stderr)
    for line in proc.stdout.splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD":
            run.records[message["stream"]].append(message["record"])
        elif message["type"] == "STATE":
            run.state = message["value"]
    return run


def latest_labels(*runs: TapRun) -> dict[tuple[str, str], dict[str, Any]]:
    """``shipping_labels`` as the warehouse holds them after these runs (upsert on the key)."""
    table: dict[tuple[str, str], dict[str, Any]] = {}
    for run in runs:
        for record in run.records["shipping_labels"]:
            table[record["provider"], record["label_id"]] = record
    return table


def costs_by_order(labels: dict[tuple[str, str], dict[str, Any]], provider: str) -> dict[str, Decimal]:
    """Non-voided label + insurance cost per matched order (orders whose labels were all voided: 0)."""
    costs: dict[str, Decimal] = defaultdict(Decimal)
    for (kind, _), label in labels.items():
        if kind == provider and label["order_ref"]:
            paid = Decimal(label["label_cost"]) + Decimal(label["insurance_cost"]) + Decimal(label["other_fees"])
            costs[label["order_ref"]] += Decimal(0) if label["voided"] else paid
    return dict(costs)


def sandbox_truth(url: str) -> dict[str, Any]:
    """The sandbox's ground truth."""
    return requests.get(f"{url}/_sandbox/truth", timeout=30).json()


def sandbox_stats(url: str) -> dict[str, Any]:
    """The sandbox's request counters."""
    return requests.get(f"{url}/_sandbox/stats", timeout=30).json()


def history_lines(stderr: str, stream: str, provider: str) -> list[dict[str, Any]]:
    """The ``HISTORY:`` lines a run logged for one stream and provider, in order, as dicts."""
    lines = [json.loads(line.split("HISTORY: ", 1)[1]) for line in stderr.splitlines() if "HISTORY: " in line]
    return [line for line in lines if (line["stream"], line["platform"]) == (stream, provider)]
