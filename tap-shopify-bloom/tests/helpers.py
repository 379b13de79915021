"""Running the tap (in-process or its console script) and reading its Singer messages."""

from __future__ import annotations

import copy
import io
import json
import logging
import subprocess
import sys
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

from tap_shopify_bloom.tap import TapShopifyBloom

#: The console script, as Meltano runs it.
TAP = str(Path(sys.executable).with_name("tap-shopify-bloom"))


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


def run_cli(config: dict, tmp_path: Path, *args: str, state: dict | None = None) -> subprocess.CompletedProcess[str]:
    """Run the console script with ``config`` (and ``state``) written to files in ``tmp_path``."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    if state is not None:
        (tmp_path / "state.json").write_text(json.dumps(state))
        args = (*args, "--state", str(tmp_path / "state.json"))
    return subprocess.run([TAP, "--config", str(path), *args], capture_output=True, text=True, timeout=120, check=False)


def error_lines(stderr: str) -> list[str]:
    """The ERROR lines and stack traces of a run's log."""
    return [line for line in stderr.splitlines() if "| ERROR" in line or "Traceback" in line]


def history_lines(log_records: list[logging.LogRecord], stream: str) -> list[dict]:
    """The ``HISTORY:`` lines a run logged for ``stream``, in order, as dicts."""
    messages = (record.getMessage() for record in log_records)
    lines = [json.loads(m.removeprefix("HISTORY: ")) for m in messages if m.startswith("HISTORY: ")]
    return [line for line in lines if line["stream"] == stream]
