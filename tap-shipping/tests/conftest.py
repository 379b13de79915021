"""Sandboxes serving ShipStation and Shippo over real HTTP, their rate-limit minute made a second."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from bloom_sandbox.server import build_world, make_server
from bloom_sandbox.testing import RunningSandbox, running_sandbox

from tests.helpers import WINDOW

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the SDK's standard "is an object" test of ``extra_fields``: the sandbox's answers carry no
    field the tap does not know, so it would only warn that no value was seen. test_new_fields.py tests the
    column with answers that carry one."""
    left_out = [item for item in items if "is_object[" in item.name and ".extra_fields]" in item.name]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if item not in left_out]


def api(sandbox: RunningSandbox, name: str) -> Any:
    """The emulator named ``name`` inside a running sandbox."""
    assert sandbox.server is not None
    return next(a for a in sandbox.server.sandbox.apis if a.name == name)


def shorten_windows(sandbox: RunningSandbox) -> RunningSandbox:
    """Make the shipping APIs' rate-limit minute ``WINDOW`` seconds, so limits bite within a test."""
    for name in ("shipstation", "shippo"):
        api(sandbox, name).rate_window_seconds = WINDOW
    return sandbox


@contextmanager
def sandbox_on_port(port: int, **world_args: Any) -> Iterator[RunningSandbox]:
    """A sandbox on a port chosen in advance (for configs built before fixtures run)."""
    world = build_world(**world_args)
    server = make_server(world, "127.0.0.1", port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield shorten_windows(RunningSandbox(url=server.url, port=port, world=world, server=server))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[RunningSandbox]:
    """A sandbox shared by tests that do not change its world (no advance, no faults left over)."""
    with running_sandbox(seed=42, orders=1500, now=NOW) as running:
        yield shorten_windows(running)


@pytest.fixture
def fresh_sandbox() -> Iterator[RunningSandbox]:
    """A sandbox of its own, for tests that advance its clock, inject faults or lower limits."""
    with running_sandbox(seed=7, orders=600, months=6, now=NOW) as running:
        yield shorten_windows(running)
