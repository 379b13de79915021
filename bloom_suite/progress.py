"""Live progress of a run, per source job, from what the taps say through documented lines.

Two inputs, both documented contracts rather than wording: the Singer SDK's ``record_count``
metric (records per stream, logged as ``METRIC: {json}``) and each tap's ``HISTORY:`` line
(history months owed and still pending per stream and account, logged when a stream starts
and after each history window: the taps' READMEs, "History progress line").

In a terminal, rich's progress bars, one per job, redrawn in place. Elsewhere (cron, CI,
``make demo > log``) plain lines: one when a job finishes a history window, one at most every
30 s while a job is quiet (never one per record), and one when it ends::

  [progress] sync-shopify: orders 2025-03-01..2025-04-01, history 5 of 75 months, 9,876 records (98/s), about 89 s left

The window named is the one last read, found from two successive lines of a stream: the span
no longer pending (a tap reads newest first or oldest first; either end may move).
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Protocol

from rich.progress import BarColumn, Progress, TextColumn

from bloom_suite.history import Pending

QUIET_SECONDS = 30.0


@dataclass
class JobProgress:
    """What one job has said so far in this run."""

    job: str
    started: float
    records: int = 0
    stream: str = ""
    months: dict[tuple[str, ...], int] = field(default_factory=dict)  # owed in all, per stream and account
    pending: dict[tuple[str, ...], int] = field(default_factory=dict)  # pending now
    pending_first: dict[tuple[str, ...], int] = field(default_factory=dict)  # pending when this run began it
    said: dict[tuple[str, ...], Pending] = field(default_factory=dict)  # the last line per stream and account
    window: str = ""  # the window last read, ``from..to``

    def history(self, said: Pending) -> bool:
        """Take a HISTORY line; return whether it reports a finished window (fewer months pending)."""
        if said.months is not None:  # the latest count (a tap may announce before it knows exactly)
            self.months[said.key] = said.months
        if said.months_pending is None:
            return False
        before = self.pending.get(said.key)
        previous, self.said[said.key] = self.said.get(said.key), said
        self.pending_first.setdefault(said.key, said.months_pending)
        self.pending[said.key] = said.months_pending
        if before is not None and said.months_pending < before:
            self.stream = said.stream
            self.window = _window_read(previous, said) if previous else ""
            return True
        return False

    @property
    def months_total(self) -> int:
        return sum(self.months.values())

    @property
    def months_done(self) -> int:
        return sum(months - self.pending.get(key, 0) for key, months in self.months.items())

    def seconds_left(self, now: float) -> float | None:
        """The history's time left at this run's pace so far; None before a month is done."""
        done = sum(self.pending_first[key] - pending for key, pending in self.pending.items())
        left = sum(self.pending.values())
        return (now - self.started) / done * left if done > 0 and left > 0 else None

    def describe(self, now: float) -> str:
        """``orders, history 5 of 75 months, 12,345 records (1,234/s), about 2 min left``."""
        parts = [f"{self.stream} {self.window}".strip()] if self.stream else []
        if self.months_total:
            parts.append(f"history {self.months_done} of {self.months_total} months")
        elapsed = max(now - self.started, 1e-3)
        parts.append(f"{self.records:,} records ({self.records / elapsed:,.0f}/s)")
        left = self.seconds_left(now)
        if left is not None:
            parts.append(f"about {_duration(left)} left")
        return ", ".join(parts)


def _window_read(before: Pending, after: Pending) -> str:
    """The span pending in ``before`` and no longer in ``after`` (dates), or "" when not known."""
    if after.pending_to and after.pending_to != before.pending_to:  # newest first: the end moved back
        start, end = after.pending_to, before.pending_to
    elif after.pending_from and after.pending_from != before.pending_from:  # oldest first: the start moved on
        start, end = before.pending_from, after.pending_from
    elif after.pending_to is None and after.pending_from is None:  # the last window: nothing pending any more
        start, end = before.pending_from, before.pending_to
    else:
        return ""
    return f"{(start or '')[:10]}..{(end or '')[:10]}" if start and end else ""


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class Display(Protocol):
    def show(self, job: JobProgress, now: float, *, window_done: bool) -> None: ...
    def tick(self, jobs: list[JobProgress], now: float) -> None: ...
    def end(self, job: JobProgress, now: float, returncode: int) -> None: ...
    def stop(self) -> None: ...


class PlainLines:
    """One line per finished window, or per quiet 30 s, and one at the end of each job."""

    def __init__(self) -> None:
        self.printed: dict[str, float] = {}

    def _print(self, job: JobProgress, now: float, text: str) -> None:
        self.printed[job.job] = now
        print(f"[progress] {job.job}: {text}", flush=True)

    def show(self, job: JobProgress, now: float, *, window_done: bool) -> None:
        if window_done:
            self._print(job, now, job.describe(now))

    def tick(self, jobs: list[JobProgress], now: float) -> None:
        for job in jobs:
            if now - self.printed.get(job.job, job.started) >= QUIET_SECONDS:
                self._print(job, now, job.describe(now))

    def end(self, job: JobProgress, now: float, returncode: int) -> None:
        outcome = "done" if returncode == 0 else f"failed (exit code {returncode})"
        self._print(job, now, f"{outcome} in {_duration(now - job.started)}, {job.describe(now)}")

    def stop(self) -> None:
        pass


class Silent:
    """No display: for a caller that shows progress its own way (and to measure what showing costs)."""

    def show(self, job: JobProgress, now: float, *, window_done: bool) -> None:
        pass

    def tick(self, jobs: list[JobProgress], now: float) -> None:
        pass

    def end(self, job: JobProgress, now: float, returncode: int) -> None:
        pass

    def stop(self) -> None:
        pass


class Bars:
    """rich's progress bars, one per job, redrawn in place."""

    def __init__(self) -> None:
        self.progress = Progress(
            TextColumn("{task.description:<14}"), BarColumn(), TextColumn("{task.fields[text]}"), refresh_per_second=4
        )
        self.tasks: dict[str, int] = {}
        self.progress.start()

    def show(self, job: JobProgress, now: float, *, window_done: bool) -> None:
        if job.job not in self.tasks:
            self.tasks[job.job] = self.progress.add_task(job.job, total=None, text="")
        total = job.months_total or None
        self.progress.update(self.tasks[job.job], total=total, completed=job.months_done, text=job.describe(now))

    def tick(self, jobs: list[JobProgress], now: float) -> None:
        for job in jobs:
            self.show(job, now, window_done=False)

    def end(self, job: JobProgress, now: float, returncode: int) -> None:
        self.show(job, now, window_done=True)
        outcome = "done" if returncode == 0 else f"failed ({returncode})"
        task = self.tasks[job.job]
        self.progress.update(task, total=1, completed=1, text=f"{outcome} in {_duration(now - job.started)}")

    def stop(self) -> None:
        self.progress.stop()


class RunProgress:
    """The progress of every job of a run, shown as bars in a terminal and as plain lines elsewhere."""

    def __init__(self, display: Display | None = None) -> None:
        self.display = display or (Bars() if sys.stdout.isatty() else PlainLines())
        self.jobs: dict[str, JobProgress] = {}
        self.lock = threading.Lock()

    def start(self, job: str) -> None:
        with self.lock:
            self.jobs[job] = JobProgress(job, time.monotonic())

    def records(self, job: str, stream: str, count: int) -> None:
        with self.lock:
            if job in self.jobs:
                self.jobs[job].records += count
                self.jobs[job].stream = self.jobs[job].stream or stream

    def history(self, job: str, said: Pending) -> None:
        with self.lock:
            if job in self.jobs:
                window_done = self.jobs[job].history(said)
                self.display.show(self.jobs[job], time.monotonic(), window_done=window_done)

    def tick(self) -> None:
        with self.lock:
            self.display.tick(list(self.jobs.values()), time.monotonic())

    def end(self, job: str, returncode: int) -> None:
        with self.lock:
            if job in self.jobs:
                self.display.end(self.jobs.pop(job), time.monotonic(), returncode)

    def stop(self) -> None:
        with self.lock:
            self.display.stop()
