"""Start a sandbox for tests and scripts: in a background thread, or as a subprocess."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from bloom_sandbox.server import SandboxServer, build_world, make_server
from bloom_sandbox.world import World

LISTENING = re.compile(r"listening on (http://[\d.]+:(\d+))")


@dataclass
class RunningSandbox:
    """A sandbox serving on 127.0.0.1."""

    url: str  # "http://127.0.0.1:PORT"
    port: int
    world: World | None  # None for a subprocess: its store lives in the other process
    server: SandboxServer | None = None  # in-thread sandboxes only
    process: subprocess.Popen[str] | None = None  # subprocess sandboxes only


@contextmanager
def running_sandbox(
    seed: int = 42,
    orders: int = 2000,
    months: int = 24,
    plan: str = "standard",
    now: datetime | None = None,
    bulk_scale: float = 0.01,
    payments: bool = True,
    shop_state: str = "active",
) -> Iterator[RunningSandbox]:
    """Generate a store and serve it on a free 127.0.0.1 port in a background thread.

    ``payments=False`` is a shop without Shopify Payments; ``shop_state`` "frozen" / "locked"
    makes every Admin API call answer HTTP 402 / 423 (``world.shop_state`` may change it later).

    Yields:
        The running sandbox (``.url``, ``.port``, ``.world``); it stops when the block ends.
    """
    world = build_world(
        seed=seed,
        orders=orders,
        months=months,
        plan=plan,
        now=now,
        bulk_scale=bulk_scale,
        payments=payments,
        shop_state=shop_state,
    )
    server = make_server(world, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, name="bloom-sandbox", daemon=True)
    thread.start()
    try:
        yield RunningSandbox(url=server.url, port=server.server_address[1], world=world, server=server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextmanager
def sandbox_process(
    port: int = 0,
    seed: int = 42,
    orders: int = 2000,
    months: int = 24,
    plan: str = "standard",
    now: str | None = None,
    bulk_scale: float | None = None,
    timeout: float = 120,
    payments: bool = True,
    shop_state: str = "active",
) -> Iterator[RunningSandbox]:
    """Run ``bloom-sandbox serve`` as a subprocess (no pytest needed) until the block ends.

    The subprocess generates its own store, so ``.world`` is None: ask ``/_sandbox/truth``.

    Yields:
        The running sandbox with ``.process`` set; it gets SIGTERM when the block ends.
    """
    cmd = [sys.executable, "-m", "bloom_sandbox.cli", "serve", "--port", str(port), "--seed", str(seed)]
    cmd += ["--orders", str(orders), "--months", str(months), "--plan", plan]
    if now:
        cmd += ["--now", now]
    if bulk_scale is not None:
        cmd += ["--bulk-scale", str(bulk_scale)]
    if not payments:
        cmd.append("--no-shopify-payments")
    if shop_state != "active":
        cmd += ["--shop-state", shop_state]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = port_text = None
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            match = LISTENING.search(line)
            if match:
                url, port_text = match.group(1), match.group(2)
                break
    finally:
        timer.cancel()
    if url is None or port_text is None:
        proc.kill()
        raise RuntimeError(f"bloom-sandbox did not start (exit code {proc.wait()}): {' '.join(cmd)}")
    # Keep draining stderr so the child never blocks on a full pipe.
    drain = threading.Thread(target=lambda: proc.stderr and proc.stderr.read(), daemon=True)
    drain.start()
    try:
        yield RunningSandbox(url=url, port=int(port_text), world=None, process=proc)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        drain.join(timeout=5)
        proc.stderr.close()
