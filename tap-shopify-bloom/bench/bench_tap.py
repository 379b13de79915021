"""Benchmark of tap-shopify-bloom against the Bloom sandbox (run by hand, not in the tests).

Usage: python bench/bench_tap.py --orders 100000 [--small-orders 2000] [--plan standard]

The sandbox runs in its own process; the tap runs as its console script writing Singer
messages to a file (counted afterwards), so the figures are the tap's own. Prints a
Markdown table for the README.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bloom_sandbox.testing import sandbox_process

TAP = [sys.executable, "-m", "tap_shopify_bloom.tap"]


def control(url: str, path: str, payload: dict | None = None) -> dict:
    data = None if payload is None else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(f"{url}/_sandbox/{path}", data=data, headers=headers)  # noqa: S310 - loopback
    with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310
        return json.load(response)


def run_tap(folder: Path, config: dict, state: dict | None) -> dict:
    """Run one sync; return wall time, record count and the final state."""
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "state.json").write_text(json.dumps(state or {}))
    out = folder / "messages.jsonl"
    started = time.perf_counter()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with out.open("wb") as sink, (folder / "tap.log").open("wb") as log:
        subprocess.run(
            [*TAP, "--config", str(folder / "config.json"), "--state", str(folder / "state.json")],
            stdout=sink,
            stderr=log,
            check=True,
        )
    wall = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    records, final_state = 0, {}
    with out.open() as lines:
        for line in lines:
            if line.startswith('{"type":"RECORD"'):
                records += 1
            elif line.startswith('{"type":"STATE"'):
                final_state = json.loads(line)["value"]
    return {"wall": wall, "cpu": cpu, "records": records, "state": final_state}


def measure(orders: int, plan: str, folder: Path) -> dict:
    with sandbox_process(orders=orders, months=24, plan=plan) as sandbox:
        truth = control(sandbox.url, "truth")
        config = {
            "store": truth["shop"]["myshopify_domain"].split(".")[0],
            "access_token": "shpat_sandbox_token",
            "start_date": truth["history_start"],
            "api_url": sandbox.url,
        }
        first = run_tap(folder, config, None)
        stats = control(sandbox.url, "stats")["shopify"]
        recent_start = (datetime.fromisoformat(truth["now"].replace("Z", "+00:00")) - timedelta(days=7)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        week = run_tap(
            folder, {**config, "start_date": min(recent_start, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))}, None
        )
        control(sandbox.url, "advance", {"days": 1})
        daily = run_tap(folder, config, first["state"])
    return {"first": first, "stats": stats, "week": week, "daily": daily}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--small-orders", type=int, default=2_000)
    parser.add_argument("--plan", default="standard")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        large = measure(args.orders, args.plan, Path(tmp))
        small = measure(args.small_orders, args.plan, Path(tmp))
    first, stats = large["first"], large["stats"]
    week, daily, small_daily = large["week"], large["daily"], small["daily"]
    rows = [
        ("first sync: records", f"{first['records']}"),
        ("first sync: wall time", f"{first['wall']:.1f} s"),
        ("first sync: records per second (wall)", f"{first['records'] / first['wall']:.0f}"),
        (
            "tap's own CPU time / records per CPU second",
            f"{first['cpu']:.1f} s / {first['records'] / first['cpu']:.0f}",
        ),
        ("points spent per 1,000 records", f"{1000 * stats['points_spent'] / max(first['records'], 1):.1f}"),
        ("THROTTLED answers", f"{stats['throttled']}"),
        ("bulk operations completed / failed", f"{stats['bulk_completed']} / {stats['bulk_failed']}"),
        ("last 7 days only (start_date 7 days back)", f"{week['wall']:.1f} s, {week['records']} records"),
        (f"daily incremental, {args.orders} orders of history", f"{daily['wall']:.1f} s, {daily['records']} records"),
        (
            f"daily incremental, {args.small_orders} orders of history",
            f"{small_daily['wall']:.1f} s, {small_daily['records']} records",
        ),
    ]
    print(f"| figure ({args.orders} orders, {args.plan} plan) | value |")
    print("|---|---|")
    for figure, value in rows:
        print(f"| {figure} | {value} |")


if __name__ == "__main__":
    main()
