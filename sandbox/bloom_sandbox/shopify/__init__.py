"""The Shopify Admin GraphQL emulator (mounted under ``/admin``)."""

from __future__ import annotations

from bloom_sandbox.api import SandboxAPI
from bloom_sandbox.shopify.api import ShopifyAPI
from bloom_sandbox.world import World


def make_apis(world: World) -> list[SandboxAPI]:
    """The APIs this package adds to the sandbox."""
    return [ShopifyAPI(world)]
