"""A sandbox serving ShipStation and Shippo on a free loopback port, with short rate windows."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from bloom_sandbox.server import Sandbox, SandboxServer, build_world
from bloom_sandbox.shipping import make_apis
from bloom_sandbox.testing import RunningSandbox

from tests.helpers import WINDOW

NOW = datetime(2026, 11, 1, tzinfo=UTC)


@contextmanager
def shipping_sandbox(port: int = 0, **world_args: Any) -> Iterator[RunningSandbox]:
    """The sandbox server with only the shipping APIs mounted, their minute shortened to ``WINDOW``."""
    world = build_world(**world_args)
    apis = make_apis(world)
    for emulator in apis:
        emulator.rate_window_seconds = WINDOW  # type: ignore[attr-defined]
    server = SandboxServer(("127.0.0.1", port), Sandbox(world, apis=apis))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield RunningSandbox(url=server.url, port=server.server_address[1], world=world, server=server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[RunningSandbox]:
    """A sandbox shared by tests that do not change its world (no advance, no faults left over)."""
    with shipping_sandbox(seed=42, orders=1500, now=NOW) as running:
        yield running


@pytest.fixture
def fresh_sandbox() -> Iterator[RunningSandbox]:
    """A sandbox of its own, for tests that advance its clock or inject faults."""
    with shipping_sandbox(seed=7, orders=600, months=6, now=NOW) as running:
        yield running


def api(sandbox: RunningSandbox, name: str):
    """The emulator named ``name`` inside a running sandbox."""
    assert sandbox.server is not None
    return next(a for a in sandbox.server.sandbox.apis if a.name == name)
