"""The sandbox's shipping emulators' own time per request on an N-order store (in process, no HTTP).

Usage: .venv/bin/python bench/sandbox_shipping.py --orders 1000000 [--repeat 5]

The emulators answer the pipeline's shipping requests on the same 2 cores as everything else
(and under the sandbox's one GIL), so their time per request bounds what the benchmarks can
say about tap-shipping: it must stay far below the APIs' pace (Shippo's 50 list calls a minute,
ShipStation's 40 requests a minute). Prints the store's generation and label indexing time, then
the median of ``--repeat`` answers per request kind, rate limits lifted.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from benchlib import machine, store_clock
from bloom_sandbox.api import Request, Response
from bloom_sandbox.server import build_world
from bloom_sandbox.shipping import ShippoAPI, ShipStationAPI, make_apis
from bloom_sandbox.shipping.shippo import LIVE_API_TOKEN
from bloom_sandbox.shipping.shipstation import API_KEY, API_SECRET

SHIPPO_AUTH = {"authorization": f"ShippoToken {LIVE_API_TOKEN}", "host": "sandbox"}
SHIPSTATION_AUTH = {"authorization": "Basic " + base64.b64encode(f"{API_KEY}:{API_SECRET}".encode()).decode(),
                    "host": "sandbox"}  # fmt: skip


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"[bench] {machine()}", flush=True)
    now = datetime.fromisoformat(store_clock()).replace(tzinfo=UTC)
    started = time.perf_counter()
    world = build_world(seed=42, orders=args.orders, now=now)
    generated = time.perf_counter() - started
    started = time.perf_counter()
    shipstation, shippo = make_apis(world)
    indexed = time.perf_counter() - started
    assert isinstance(shipstation, ShipStationAPI)
    assert isinstance(shippo, ShippoAPI)
    shippo.limits = dict.fromkeys(shippo.limits, 10**9)
    shipstation.rate_limit = 10**9

    def get(api: ShippoAPI | ShipStationAPI, path: str, **params: str) -> Response:
        auth = SHIPPO_AUTH if api is shippo else SHIPSTATION_AUTH
        response = api.handle(Request("GET", path, {k: [v] for k, v in params.items()}, auth))
        assert response.status == 200, (path, params, response.status, response.body[:200])
        return response

    refund = json.loads(get(shippo, "/shippo/refunds", results="100").body)["results"][0]
    history_start = (now - timedelta(days=750)).strftime("%Y-%m-%d %H:%M:%S")
    week_start = (now - timedelta(days=7)).strftime("%Y-%m-%d %H:%M:%S")
    pages = json.loads(get(shipstation, "/shipstation/shipments", createDateStart=history_start,
                           pageSize="500").body)["pages"]  # fmt: skip
    requests: dict[str, Callable[[], object]] = {
        "Shippo GET /transactions, newest page of 100": lambda: get(shippo, "/shippo/transactions", results="100"),
        "Shippo GET /transactions, page 50 of 100": lambda: get(shippo, "/shippo/transactions", results="100",
                                                               page="50"),
        "Shippo GET /refunds, newest page of 100": lambda: get(shippo, "/shippo/refunds", results="100"),
        "Shippo GET /transactions/<id> (a refunded label)": lambda: get(
            shippo, f"/shippo/transactions/{refund['transaction']}"),
        "ShipStation GET /shipments, last 7 days, 500 with items": lambda: get(
            shipstation, "/shipstation/shipments", createDateStart=week_start, pageSize="500",
            includeShipmentItems="true"),
        f"ShipStation GET /shipments, history page {pages // 2} of {pages} (500)": lambda: get(
            shipstation, "/shipstation/shipments", createDateStart=history_start, pageSize="500",
            page=str(max(1, pages // 2))),
        "ShipStation GET /shipments, voided since the start (500)": lambda: get(
            shipstation, "/shipstation/shipments", voidDateStart=history_start, pageSize="500"),
    }  # fmt: skip
    labels = {provider: len(shippo.book.visible(provider)) for provider in ("shipstation", "shippo")}
    print(f"\n| {args.orders:,} orders, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC | seconds |")
    print("|---|---|")
    print(f"| store generated | {generated:.1f} |")
    print(f"| labels indexed (ShipStation {labels['shipstation']:,}, Shippo {labels['shippo']:,}) | {indexed:.1f} |")
    for name, action in requests.items():
        times = [_timed(action) for _ in range(args.repeat)]
        print(f"| {name}: median of {args.repeat} | {statistics.median(times):.4f} |", flush=True)


if __name__ == "__main__":
    main()
