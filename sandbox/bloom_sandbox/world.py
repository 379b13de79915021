"""The world every emulator shares: the seed, the store and its clock."""

from __future__ import annotations

from dataclasses import dataclass

from bloom_sandbox.store.model import Store

SHOP_STATES = ("active", "frozen", "locked")


@dataclass
class World:
    """Everything generated from one seed; emulators derive their data from ``store``."""

    seed: int
    store: Store
    # Access tokens the emulators accept (demo defaults; tests may add more).
    shopify_token: str = "shpat_sandbox_token"  # noqa: S105 (public demo token of a local emulator)
    # Bulk operations last ``bulk_scale`` seconds per 1,000 result objects (1.0 is about real speed).
    bulk_scale: float = 0.05
    # Shopify's shop state: "active", "frozen" (unpaid: HTTP 402) or "locked" (HTTP 423).
    shop_state: str = "active"
