"""One sync at a time per project folder.

Meltano refuses a second run of a job only when it finds the first one's record in its system
database, and it checks before it writes its own: two runs started in the same instant both pass
the check and then write the same state and tables. Runs of one tap in two environments collide
too, on the catalog file Meltano writes for the tap under ``.meltano/run/``. ``bloom-sync``
therefore takes an exclusive ``flock`` on the project's lock file first. The kernel frees the lock
the moment its holder dies (even by SIGKILL), so a killed sync never blocks the next one.
"""

from __future__ import annotations

import fcntl
import os
from datetime import UTC, datetime
from pathlib import Path


class SyncRunningError(Exception):
    """Another sync of the same project folder holds the lock; the message describes it."""


def acquire(project: Path, environment: str, *, inheritable: bool = False) -> int:
    """Lock ``project``'s sync for this process (and, if ``inheritable``, the program it execs).

    Returns the descriptor; raises :class:`SyncRunningError`, naming the holder's pid, environment
    and start time, when another process holds the lock.
    """
    path = project / ".bloom" / "sync.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown process"
        os.close(fd)
        raise SyncRunningError(holder) from None
    os.ftruncate(fd, 0)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    os.pwrite(fd, f"pid {os.getpid()}, environment '{environment}', started {started}".encode(), 0)
    os.set_inheritable(fd, inheritable)
    return fd
