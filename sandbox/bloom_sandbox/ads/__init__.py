"""Emulators of the Meta Marketing API, Google Ads API and TikTok Business API.

Mounted under ``/meta``, ``/googleads`` and ``/tiktok``; their truth and stats blocks are
``meta``, ``google_ads`` and ``tiktok`` (the tap's ``platform`` values). All three derive
their accounts, campaigns and daily figures from one :class:`~bloom_sandbox.ads.spend.SpendModel`
over the world's seed and store; the demo credentials are in
:mod:`bloom_sandbox.ads.credentials`, the fault kinds in :mod:`bloom_sandbox.ads.common`.
"""

from __future__ import annotations

from bloom_sandbox.ads.googleads import GoogleAdsAPI
from bloom_sandbox.ads.meta import MetaAPI
from bloom_sandbox.ads.spend import SpendModel
from bloom_sandbox.ads.tiktok import TikTokAPI
from bloom_sandbox.api import SandboxAPI
from bloom_sandbox.world import World

__all__ = ["GoogleAdsAPI", "MetaAPI", "TikTokAPI", "make_apis"]


def make_apis(world: World) -> list[SandboxAPI]:
    """The three ad-platform emulators over one shared spend model."""
    model = SpendModel(world)
    return [MetaAPI(world, model), GoogleAdsAPI(world, model), TikTokAPI(world, model)]
