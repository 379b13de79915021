"""What the three ad-platform emulators share: faults, counters and the clock they live by.

Faults are posted to ``/_sandbox/faults`` (format in sandbox/README.md); each emulator
takes the ones whose ``type`` it knows (prefixed with its name, so types stay unique)::

    {"type": "meta_throttle", "count": 2, "minutes": 1, "code": 80004}
    {"type": "meta_usage", "percent": 90}
    {"type": "meta_job_failed"}
    {"type": "meta_invalid_token"}
    {"type": "google_ads_quota", "count": 1}
    {"type": "google_ads_expire_tokens", "after": 1}
    {"type": "tiktok_rate_limit", "count": 3}
    {"type": "tiktok_system_error"}

``count`` (default 1) is how many requests the fault answers, ``"always": true`` keeps it
until the faults are cleared, ``after`` lets that many matching requests pass first, and
``account`` restricts it to one account id. Plain HTTP
errors on any path are the server's generic ``http_error`` faults.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bloom_sandbox.ads.spend import SpendModel
from bloom_sandbox.world import World

_request_ids = itertools.count(1)


def request_id(prefix: str) -> str:
    """A fresh id for a response's request-id field."""
    return f"{prefix}{next(_request_ids):012d}"


@dataclass
class Fault:
    """One injected fault and how many more requests it answers (None: until cleared)."""

    kind: str
    times: int | None
    account: str | None
    spec: dict[str, Any]


@dataclass
class FaultBook:
    """The faults one emulator holds; thread-safe because the server may be threaded."""

    api: str
    kinds: frozenset[str]
    faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def accept(self, faults: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Replace the faults with those of ``faults`` this API knows; return the others."""
        mine, rest = [], []
        for spec in faults:
            kind = str(spec.get("type", ""))
            if kind in self.kinds:
                count = spec.get("count", 1)
                if spec.get("always") is not True and (not isinstance(count, int) or count < 1):
                    raise ValueError(f"fault {spec!r}: 'count' must be an integer >= 1 (or use \"always\": true)")
                times = None if spec.get("always") is True else count
                account = str(spec["account"]) if spec.get("account") is not None else None
                mine.append(Fault(kind.removeprefix(self.api + "_"), times, account, dict(spec)))
            else:
                rest.append(spec)
        with self._lock:
            self.faults = mine
        return rest

    def take(self, kind: str, account: str | None = None) -> Fault | None:
        """Use up one occurrence of a fault of ``kind`` that applies to ``account``."""
        with self._lock:
            for fault in self.faults:
                if fault.kind == kind and fault.account in (None, account):
                    if fault.spec.get("after", 0) > 0:
                        fault.spec["after"] -= 1
                        return None
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self.faults.remove(fault)
                    return fault
        return None


class AdEmulator:
    """Base of the three emulators: world, spend model, faults and counters."""

    name = ""
    prefix = ""
    FAULT_KINDS: frozenset[str] = frozenset()

    def __init__(self, world: World, model: SpendModel) -> None:
        self.world = world
        self.model = model
        self.faults = FaultBook(self.name, frozenset(f"{self.name}_{kind}" for kind in self.FAULT_KINDS))
        self.counters: Counter[str] = Counter()
        self._lock = threading.Lock()

    def count(self, key: str) -> None:
        """Add one to a counter shown in /_sandbox/stats."""
        with self._lock:
            self.counters[key] += 1

    def stats(self) -> dict[str, Any]:
        """Counters for /_sandbox/stats."""
        with self._lock:
            return dict(self.counters)

    def set_faults(self, faults: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Take the faults this API understands; return the ones it does not."""
        return self.faults.accept(faults)

    def advance(self, days: int) -> None:
        """Figures follow the store's clock, so moving it revises recent days by itself."""
        self.count("advances")
