"""tap-shipping alone on a sandbox store: a first sync with ``backfill`` false, then the history.

Usage: .venv/bin/python bench/shipping_first_sync.py --orders 100000 [--recent-only]

The sandbox's clock is yesterday (as in pipeline.py) and its shipping APIs keep their real
limits (Shippo live token: 50 list calls and 4,000 single-object calls a minute; ShipStation
40 a minute). Prints each run's wall time, records per stream and API calls per provider.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from benchlib import ROOT, load_average, store_clock
from bloom_sandbox.testing import running_sandbox


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--recent-only", action="store_true", help="only the first, recent-only run")
    args = parser.parse_args()
    now = datetime.fromisoformat(store_clock()).replace(tzinfo=UTC)
    folder = Path(tempfile.mkdtemp(prefix="bloom-bench-shipping-"))
    with running_sandbox(seed=42, orders=args.orders, now=now) as sandbox:
        config = {
            "shipstation_api_key": "ss_sandbox_key", "shipstation_api_secret": "ss_sandbox_secret",
            "shipstation_api_url": f"{sandbox.url}/shipstation", "shippo_api_token": "shippo_live_sandbox",
            "shippo_api_url": f"{sandbox.url}/shippo", "start_date": (now - timedelta(days=750)).isoformat(),
        }  # fmt: skip
        runs = [("recent only (backfill false)", {"backfill": False}), ("history (backfill true)", {})]
        state = None
        for name, extra in runs[:1] if args.recent_only else runs:
            (folder / "config.json").write_text(json.dumps(config | extra))
            command = [str(ROOT / ".venv/bin/tap-shipping"), "--config", str(folder / "config.json")]
            if state is not None:
                (folder / "state.json").write_text(json.dumps(state))
                command += ["--state", str(folder / "state.json")]
            before = requests.get(f"{sandbox.url}/_sandbox/stats", timeout=30).json()
            load, started = load_average(), time.monotonic()
            output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            wall = time.monotonic() - started
            after = requests.get(f"{sandbox.url}/_sandbox/stats", timeout=30).json()
            streams: Counter[str] = Counter()
            for line in output.splitlines():
                message = json.loads(line)
                if message["type"] == "RECORD":
                    streams[message["stream"]] += 1
                elif message["type"] == "STATE":
                    state = message["value"]
            calls = {p: after[p]["requests"] - before[p]["requests"] for p in ("shipstation", "shippo")}
            print(
                f"{args.orders:,} orders, {name}: {wall:.1f} s, {sum(streams.values()):,} records "
                f"({dict(streams)}), API calls {calls}, load {load}",
                flush=True,
            )


if __name__ == "__main__":
    main()
