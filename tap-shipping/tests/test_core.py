"""The SDK's standard tap tests, against a small sandbox on a port chosen before collection."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from singer_sdk.testing import SuiteConfig, get_tap_test_class
from tap_shipping.tap import TapShipping

from tests.conftest import NOW, sandbox_on_port
from tests.helpers import sandbox_config


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


PORT = _free_port()


@pytest.fixture(scope="module", autouse=True)
def standard_sandbox() -> Iterator[None]:
    """The sandbox the standard tests' config points at (it must exist before they sync)."""
    with sandbox_on_port(PORT, seed=11, orders=300, months=4, now=NOW):
        yield


TestTapShipping = get_tap_test_class(
    TapShipping,
    config=sandbox_config(f"http://127.0.0.1:{PORT}"),
    suite_config=SuiteConfig(max_records_limit=500),
)
