"""bloom-sync's project lock: a second sync refuses at once; a SIGKILLed holder frees it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bloom_suite import sync_lock

HOLD = """
import sys, time
from pathlib import Path
from bloom_suite import sync_lock
sync_lock.acquire(Path(sys.argv[1]), "prod")
print("locked", flush=True)
time.sleep(60)
"""


@contextmanager
def holder(project: Path) -> Iterator[subprocess.Popen[str]]:
    """A process holding ``project``'s sync lock, killed when the block ends."""
    with subprocess.Popen([sys.executable, "-c", HOLD, str(project)], stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "locked"
        try:
            yield process
        finally:
            process.kill()


def test_a_second_sync_is_refused_naming_the_first(tmp_path):
    with (
        holder(tmp_path) as first,
        pytest.raises(sync_lock.SyncRunningError, match=rf"pid {first.pid}, environment 'prod', started 20"),
    ):
        sync_lock.acquire(tmp_path, "demo")


def test_a_killed_sync_frees_the_lock_at_once(tmp_path):
    with holder(tmp_path) as first:
        first.send_signal(signal.SIGKILL)
        first.wait()
        started = time.monotonic()
        sync_lock.acquire(tmp_path, "demo")  # would raise if the lock were still held
        assert time.monotonic() - started < 1


def test_the_refused_bloom_sync_exits_75_with_one_line(tmp_path):
    with holder(tmp_path) as first:
        bloom_sync = Path(sys.executable).parent / "bloom-sync"
        done = subprocess.run([str(bloom_sync), "--environment=demo"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 75
    [line] = done.stderr.splitlines()
    assert line.startswith(f"bloom-sync: another sync is running in this project folder (pid {first.pid}, ")
    assert line.endswith("did not start. Nothing to fix: the next sync picks up what this one would have synced")
