"""Stop cleanly on Ctrl-C, SIGTERM and SIGHUP (a closed terminal, a cancelled CI job).

:func:`stops_cleanly` wraps the ``main`` of ``bloom-demo`` and ``bloom-sync``: the first of SIGINT,
SIGTERM and SIGHUP raises :class:`Stopped` (a ``KeyboardInterrupt``) in the main thread, so that
the ``finally`` blocks on the way out stop what the command started: the ``meltano run`` process
groups (``runner.py``), the sandbox (``processes.py``) and the embedded PostgreSQL (``demo.py``).
Later signals are ignored, so that they cannot cut that cleanup short. The command then exits with
128 + the signal's number (130, 143, 129) after one line on stderr.
"""

from __future__ import annotations

import contextlib
import functools
import signal
import sys
from collections.abc import Callable, Iterator
from typing import ParamSpec

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
P = ParamSpec("P")


class Stopped(KeyboardInterrupt):
    """The process received a stop signal: what it started is being stopped."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def name(self) -> str:
        """The signal's name, e.g. ``SIGTERM``."""
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        """128 + the signal's number, as a shell reports a process the signal ended."""
        return 128 + self.signum


class _State:
    first: Stopped | None = None  # the signal that started the stop
    deferring = 0  # depth of deferred() blocks
    pending = False  # the first signal came during a deferred() block


def _handle(signum: int, _frame: object) -> None:
    if _State.first is not None:
        return  # already stopping: the cleanup goes on
    _State.first = Stopped(signum)
    if _State.deferring:
        _State.pending = True
        return
    raise _State.first


def install() -> None:
    """Turn SIGINT, SIGTERM and SIGHUP into :class:`Stopped` (call from the main thread)."""
    for signum in SIGNALS:
        signal.signal(signum, _handle)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold a stop signal back until the block ends: e.g. while a process starts and is recorded for cleanup."""
    _State.deferring += 1
    try:
        yield
    finally:
        _State.deferring -= 1
        if _State.pending and not _State.deferring and _State.first is not None:
            _State.pending = False
            raise _State.first


def raise_if_stopped(name: str | None) -> None:
    """Raise :class:`Stopped` again for a run that ended stopped by signal ``name`` (``RunReport.stopped``)."""
    if name:
        raise Stopped(signal.Signals[name])


RESUMES = "nothing already loaded is lost, and the next run resumes from the saved state"


def stops_cleanly(prefix: str, resumes: str = RESUMES) -> Callable[[Callable[P, None]], Callable[P, None]]:
    """Decorate a command's ``main``: a stop signal ends it with 128 + n and one line on stderr."""

    def decorate(main: Callable[P, None]) -> Callable[P, None]:
        @functools.wraps(main)
        def run(*args: P.args, **kwargs: P.kwargs) -> None:
            install()
            try:
                main(*args, **kwargs)
            except Stopped as stopped:
                with contextlib.suppress(OSError):  # after SIGHUP the terminal may be gone
                    print(
                        f"{prefix} stopped by {stopped.name}: what it started is stopped; {resumes}",
                        file=sys.stderr, flush=True,
                    )  # fmt: skip
                sys.exit(stopped.exit_code)

        return run

    return decorate
