"""The world every emulator shares: the seed, the store and its clock."""

from __future__ import annotations

from dataclasses import dataclass

from bloom_sandbox.store.model import Store


@dataclass
class World:
    """Everything generated from one seed; emulators derive their data from ``store``."""

    seed: int
    store: Store
    # Access tokens the emulators accept (demo defaults; tests may add more).
    shopify_token: str = "shpat_sandbox_token"
