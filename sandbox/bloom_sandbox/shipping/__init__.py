"""ShipStation (API v1) and Shippo emulators over the labels of the seeded store.

Demo credentials (constants, local sandbox only):

- ShipStation: Basic auth, API key ``ss_sandbox_key``, API secret ``ss_sandbox_secret``;
  base URL ``http://<host>:<port>/shipstation`` (upstream ``https://ssapi.shipstation.com``).
- Shippo: ``Authorization: ShippoToken shippo_test_sandbox`` (test mode: 10 list requests
  per minute) or ``shippo_live_sandbox`` (live mode: 50 per minute); base URL
  ``http://<host>:<port>/shippo`` (upstream ``https://api.goshippo.com``).

Rate-limit windows are 60 seconds as upstream; each API's ``rate_window_seconds`` (or
the ``BLOOM_SANDBOX_SHIPPING_RATE_WINDOW`` environment variable) shortens them for tests.
"""

from __future__ import annotations

import os

from bloom_sandbox.api import SandboxAPI
from bloom_sandbox.shipping.labels import LabelBook
from bloom_sandbox.shipping.shippo import ShippoAPI
from bloom_sandbox.shipping.shipstation import ShipStationAPI
from bloom_sandbox.world import World

__all__ = ["LabelBook", "ShipStationAPI", "ShippoAPI", "make_apis"]


def make_apis(world: World) -> list[SandboxAPI]:
    """The ShipStation and Shippo emulators, sharing one label book over the world's store."""
    book = LabelBook(world.seed, world.store)
    window = float(os.environ.get("BLOOM_SANDBOX_SHIPPING_RATE_WINDOW", "60"))
    return [ShipStationAPI(book, rate_window_seconds=window), ShippoAPI(book, rate_window_seconds=window)]
