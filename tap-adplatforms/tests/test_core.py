"""The SDK's standard tap tests, against the sandbox's ad-platform emulators."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from adplatforms_testkit import start_sandbox, stop_sandbox
from singer_sdk.testing import SuiteConfig, get_tap_test_class
from tap_adplatforms.tap import TapAdPlatforms

# The standard test class needs its config when the module is collected, so this module
# serves its own sandbox from then on; the fixture below stops it after the module.
_sandbox, _server = start_sandbox()


@pytest.fixture(scope="module", autouse=True)
def _stop_sandbox() -> Iterator[None]:
    yield
    stop_sandbox(_server)


TestTapAdPlatforms = get_tap_test_class(
    tap_class=TapAdPlatforms,
    config=_sandbox.config(start_date=_sandbox.days_ago(20)),
    suite_config=SuiteConfig(max_records_limit=500),
)
