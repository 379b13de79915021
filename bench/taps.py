"""Each tap alone, its Singer output to /dev/null: records per second, CPU and peak memory.

Usage: .venv/bin/python bench/taps.py --orders 10000 [--runs 3] [--limits documented|lifted]
       [--tap tap-shipping ...]

A sandbox store of N orders (seed 42, 24 months, clock yesterday) serves the three taps; each
tap runs as its installed executable with the demo environment's config (as ``meltano config
print`` resolves it), ``backfill`` on and no state: a whole first sync, its history included,
stdout to ``/dev/null``. Records are counted from the tap's own ``record_count`` metrics on
stderr (the SDK logs them as it goes), so nothing reads the messages. ``--limits documented``
keeps the APIs' documented limits as the sandbox emulates them (Shopify standard plan 100
points/s, bulk operations 0.05 s per 1,000 objects, ShipStation 40 and Shippo 50 list calls a
minute): what a merchant's first sync meets. ``--limits lifted`` shows the taps' own ceiling:
Shopify's enterprise plan (2,000 points/s) with instant bulk operations, the shipping APIs'
windows 100 times shorter (``BLOOM_SANDBOX_SHIPPING_RATE_WINDOW``) and tap-shipping's Shippo
pace and burst raised to match. Left as they are in both: the taps' waits for asynchronous jobs
(Shopify bulk operations and Meta report runs, polled from 0.5 s on), which no limit sets.
The sandbox shares the machine's cores with the tap. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from benchlib import (
    MB,
    SHOPIFY_LIFTED,
    ProcessWatch,
    Warehouse,
    demo_env,
    executable,
    lift_shipping_limits,
    load_average,
    machine,
    now_stamp,
    resolved_config,
    spread,
    store_clock,
    workdir,
)

from bloom_suite.processes import Sandbox, isolated_project, running_sandbox
from bloom_suite.runner import METRIC

TAPS = ("tap-shopify-bloom", "tap-adplatforms", "tap-shipping")


@dataclass
class TapRun:
    """One tap process: wall and CPU seconds, peak RSS, records per stream."""

    wall: float
    cpu: float
    peak: int
    records: Counter[str]
    load: str

    @property
    def total(self) -> int:
        return sum(self.records.values())


def records_from_metrics(log: Path) -> Counter[str]:
    """Records per stream from the SDK's ``record_count`` metric lines."""
    records: Counter[str] = Counter()
    for line in log.read_text(errors="replace").splitlines():
        match = METRIC.search(line)
        if not match:
            continue
        metric = json.loads(match["json"])
        if metric.get("metric") == "record_count":
            records[metric.get("tags", {}).get("stream", "?")] += int(metric["value"])
    return records


def run_tap(tap: str, config: Path, log: Path) -> TapRun:
    """Run ``tap`` once from no state, stdout to /dev/null."""
    load = load_average()
    with ProcessWatch() as watch, log.open("wb") as errors:
        started = time.monotonic()
        process = subprocess.Popen(
            [executable("extractors", tap), "--config", str(config)], stdout=subprocess.DEVNULL, stderr=errors
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{tap} exited with {process.returncode}: see {log}")
    cpu = usage.ru_utime + usage.ru_stime
    peak = max(watch.peaks.get(tap, 0), usage.ru_maxrss * 1024)
    return TapRun(wall, cpu, peak, records_from_metrics(log), load)


def tap_configs(folder: Path, sandbox: Sandbox, now: str, shippo: dict[str, int]) -> dict[str, Path]:
    """Each tap's demo config, history on, tap-shipping's with the ``shippo`` settings, written to a file."""
    project = isolated_project(folder)
    env = demo_env(Warehouse("127.0.0.1", 0, "bloom", "none"), sandbox, folder, now)
    paths = {}
    for tap in TAPS:
        config = resolved_config(project, tap, env) | {"backfill": True}
        if tap == "tap-shipping":
            config |= shippo
        paths[tap] = folder / f"{tap}.json"
        paths[tap].write_text(json.dumps(config))
    return paths


def rows(tap: str, runs: list[TapRun]) -> list[tuple[str, str]]:
    totals = [run.total for run in runs]
    streams = ", ".join(f"{name} {count:,}" for name, count in sorted(runs[-1].records.items()))
    return [
        (f"**{tap}**: records (per stream)", f"{spread(totals, '{:,.0f}')} ({streams})"),
        ("  wall s", spread([run.wall for run in runs])),
        ("  records/s (wall)", spread([run.total / run.wall for run in runs], "{:,.0f}")),
        ("  its own CPU s (user + sys)", spread([run.cpu for run in runs])),
        ("  records per CPU second", spread([run.total / max(run.cpu, 1e-9) for run in runs], "{:,.0f}")),
        ("  peak RSS", f"{max(run.peak for run in runs) / MB:.0f} MB"),
        ("  load average (1/5/15 min) at start", " | ".join(run.load for run in runs)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--limits", choices=["documented", "lifted"], default="documented")
    parser.add_argument("--tap", action="append", choices=TAPS, help="only this tap (repeatable); default all three")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (configs, logs)")
    args = parser.parse_args()
    print(f"[bench] {machine()}; load {load_average()}", flush=True)
    now = store_clock()
    lifted = args.limits == "lifted"
    shippo = lift_shipping_limits() if lifted else {}
    results: dict[str, list[TapRun]] = {}
    with (
        workdir(args.keep) as folder,
        running_sandbox(
            seed=42,
            orders=args.orders,
            now=now,
            log_path=folder / "sandbox.log",
            **(SHOPIFY_LIFTED if lifted else {}),
        ) as sandbox,  # fmt: skip
    ):
        configs = tap_configs(folder, sandbox, now, shippo)
        for index in range(args.runs):
            for tap in args.tap or TAPS:
                run = run_tap(tap, configs[tap], folder / f"{tap}-{index + 1}.log")
                results.setdefault(tap, []).append(run)
                print(f"[bench] run {index + 1}/{args.runs} {tap}: {run.total:,} records, {run.wall:.1f} s", flush=True)
    print(f"| {args.orders:,} orders, {args.limits} limits, {now_stamp()} | value |\n|---|---|")
    for tap, runs in results.items():
        for name, value in rows(tap, runs):
            print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
