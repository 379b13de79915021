"""The Singer SDK's standard tap tests, against the Bloom sandbox over real HTTP."""

from __future__ import annotations

import pytest
from bloom_sandbox.testing import running_sandbox
from singer_sdk.testing import SuiteConfig, get_tap_test_class
from tap_shopify_bloom.tap import TapShopifyBloom

from tests.sandbox_client import tap_config

# The sandbox's URL is known only once it runs: the fixture below fills it in before the
# suite's first sync (the runner reads this same dict).
CONFIG: dict = {
    "store": "bloom-botanicals",
    "access_token": "shpat_sandbox_token",
    "start_date": "2026-01-01T00:00:00Z",
    "api_url": "http://127.0.0.1:9",
    "bulk_threshold": 0,
}

_TapShopifyBloomTests = get_tap_test_class(
    TapShopifyBloom,
    config=CONFIG,
    suite_config=SuiteConfig(max_records_limit=None),
)


@pytest.fixture(scope="module", autouse=True)
def sandbox():
    with running_sandbox(seed=7, orders=150, months=3, plan="plus") as running:
        CONFIG.update(tap_config(running, bulk_threshold=0))
        yield running


class TestTapShopifyBloom(_TapShopifyBloomTests):
    """Standard tap tests."""
