"""The SDK's standard tap tests, against the sandbox's ad-platform emulators."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from bloom_sandbox.ads import make_apis
from bloom_sandbox.server import Sandbox, SandboxServer, build_world
from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_adplatforms.tap import TapAdPlatforms
from tests.conftest import ORDERS, SEED, AdsSandbox

# The standard test class needs its config when the module is collected, so this module
# serves its own sandbox from then on; the fixture below stops it after the module.
_world = build_world(seed=SEED, orders=ORDERS)
_server = SandboxServer(("127.0.0.1", 0), Sandbox(_world, make_apis(_world)))
threading.Thread(target=_server.serve_forever, name="ads-sandbox-core", daemon=True).start()
_sandbox = AdsSandbox(_server.url, _world)


@pytest.fixture(scope="module", autouse=True)
def _stop_sandbox() -> Iterator[None]:
    yield
    _server.shutdown()
    _server.server_close()


TestTapAdPlatforms = get_tap_test_class(
    tap_class=TapAdPlatforms,
    config=_sandbox.config(start_date=_sandbox.days_ago(20)),
    suite_config=SuiteConfig(max_records_limit=500),
)
