"""Talking to a running Bloom sandbox: its settings for the tap and its control endpoints."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from bloom_sandbox.testing import RunningSandbox

SANDBOX_TOKEN = "shpat_sandbox_token"


def tap_config(sandbox: RunningSandbox, **overrides: Any) -> dict[str, Any]:
    """Settings that point the tap at the sandbox and fetch its whole history."""
    store = sandbox.world.store
    return {
        "store": store.shop.handle,
        "access_token": SANDBOX_TOKEN,
        "start_date": store.history_start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "api_url": sandbox.url,
        **overrides,
    }


def control(sandbox: RunningSandbox, path: str, payload: Any = None, method: str | None = None) -> Any:
    """Call ``/_sandbox/<path>`` (GET, or POST with a JSON payload)."""
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(
        f"{sandbox.url}/_sandbox/{path}",
        data=data,
        method=method or ("POST" if data is not None else "GET"),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def truth_counts(sandbox: RunningSandbox) -> dict[str, int]:
    """The sandbox's ground-truth count of every object type."""
    return control(sandbox, "truth")["counts"]


def shopify_stats(sandbox: RunningSandbox) -> dict[str, int]:
    """The Shopify emulator's counters (requests, points, THROTTLED answers, bulk jobs)."""
    return control(sandbox, "stats")["shopify"]
