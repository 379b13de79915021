"""Running the tap in-process and reading its Singer messages."""

from __future__ import annotations

import copy
import io
import json
from contextlib import redirect_stdout
from dataclasses import dataclass, field

from tap_shopify_bloom.tap import TapShopifyBloom


@dataclass
class SyncResult:
    """The messages of one run, grouped."""

    records: dict[str, list[dict]] = field(default_factory=dict)
    states: list[dict] = field(default_factory=list)
    tap: TapShopifyBloom | None = None

    @property
    def state(self) -> dict:
        """The last STATE message's value."""
        return self.states[-1] if self.states else {}


def parse_messages(lines: list[str]) -> SyncResult:
    """Group Singer message lines by type."""
    result = SyncResult()
    for line in lines:
        if not line.strip():
            continue
        message = json.loads(line)
        if message["type"] == "RECORD":
            result.records.setdefault(message["stream"], []).append(message["record"])
        elif message["type"] == "STATE":
            result.states.append(message["value"])
    return result


def run_sync(config: dict, state: dict | None = None, streams: list[str] | None = None) -> SyncResult:
    """Run a whole sync in this process; ``streams`` limits the selected streams."""
    tap = TapShopifyBloom(config=config, state=copy.deepcopy(state or {}))
    if streams is not None:
        for name, stream in tap.streams.items():
            stream.selected = name in streams
    buffer = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with redirect_stdout(buffer):
        tap.sync_all()
    buffer.seek(0)
    result = parse_messages(buffer.read().splitlines())
    result.tap = tap
    return result
