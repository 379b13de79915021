"""The emulated APIs the server mounts: each module defines ``make_apis(world) -> list[SandboxAPI]``."""

from __future__ import annotations

import importlib
import importlib.util

from bloom_sandbox.api import SandboxAPI
from bloom_sandbox.world import World

API_MODULES = ["bloom_sandbox.shopify", "bloom_sandbox.ads", "bloom_sandbox.shipping"]


def load_apis(world: World) -> list[SandboxAPI]:
    """Instantiate every registered API over ``world``; check their names and prefixes are unique."""
    apis: list[SandboxAPI] = []
    try:
        for module_name in API_MODULES:
            # The ad and shipping emulators are written separately: until their package exists, skip it.
            # Any other import error (a bug in a package that does exist) propagates.
            if importlib.util.find_spec(module_name) is None:
                continue
            module = importlib.import_module(module_name)
            apis.extend(module.make_apis(world))
    except BaseException:
        close_apis(apis)
        raise
    names = [api.name for api in apis]
    prefixes = [api.prefix.rstrip("/") for api in apis]
    if len(set(names)) != len(names) or len(set(prefixes)) != len(prefixes):
        raise RuntimeError(
            f"sandbox APIs need unique names and prefixes, got {list(zip(names, prefixes, strict=True))}"
        )
    if any(p in ("", "/_sandbox") for p in prefixes):
        raise RuntimeError(f"an API prefix may not be '/' or '/_sandbox': {prefixes}")
    return apis


def close_apis(apis: list[SandboxAPI]) -> None:
    """Release what the APIs hold (those with a ``close``: see :class:`~bloom_sandbox.api.Closing`)."""
    for api in apis:
        close = getattr(api, "close", None)
        if close is not None:
            close()
