"""Run the whole pipeline with the sources side by side: each source's job at once, then the reports.

``meltano run sync-all`` runs its blocks one after another; the three sources' data are
independent, so ``run_pipeline`` starts ``sync-shopify``, ``sync-ads`` and ``sync-shipping``
as three ``meltano run`` processes (each keeps its own state ID, as in ``sync-all``) and
builds the reports with ``build-reports`` once all three have loaded. Progress lines of
all of them go to the terminal, their whole output to one log file.

Given the warehouse's connection, the reports start ahead: as soon as the first source has
loaded, while the others still do, so that Meltano's and dbt's starts and dbt's parse
(about 8 s of one core) overlap the slowest tap. dbt then waits in its first hook until the
loads are over (``loads_lock.py``); if a source fails meanwhile, the waiting reports are
stopped before they build anything.

Each ``meltano run`` starts in its own session: stopped by a signal (``stopping.py``), the run stops
every one of them (meltano, its plugins, dbt) and reports itself ``stopped``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psycopg

from bloom_suite.history import HistoryBook, Pending, record_pending
from bloom_suite.loads_lock import LoadsLock
from bloom_suite.progress import RunProgress
from bloom_suite.runs import RunRecorder
from bloom_suite.stopping import Stopped, deferred

# This virtualenv's meltano, else the one on PATH.
MELTANO = (
    str(Path(sys.executable).parent / "meltano") if (Path(sys.executable).parent / "meltano").exists() else "meltano"
)
SOURCE_JOBS = ("sync-shopify", "sync-ads", "sync-shipping")
REPORTS_JOB = "build-reports"

# Shown as they come besides the progress (progress.py): errors and warnings of the plugins, and
# dbt's closing tally; the whole log goes to a file.
SHOWN_LEVELS = ("error", "critical", "warning")
SHOWN = re.compile(r"Done\. PASS=")
LOG_LINE = re.compile(r"^\S+Z \[\s*(?P<level>\w+)\s*\] (?P<plugin>\S+)\s+(?P<message>.*)$")
METRIC = re.compile(r"METRIC: (?P<json>\{.*\})\s*$")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Lines that only frame the one saying what failed (the SDK's, backoff's, a stack trace's, meltano's).
GENERIC_ERRORS = ("Config validation failed", "An unhandled error occurred while syncing", "Giving up _request(",
                  "Backing off ", "Traceback", "File \"", "Block run completed",
                  "Run invocation could not be completed", "Warning: ")  # fmt: skip


@dataclass
class RunReport:
    """What one run did: exit codes per job, records per tap and stream, seconds per phase.

    ``seconds`` holds the sources' phase (from their start to the last one's end) and the
    reports' (from then to the reports' end, whenever they started).
    """

    returncodes: dict[str, int] = field(default_factory=dict)
    records: Counter[tuple[str, str]] = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)
    history: HistoryBook = field(default_factory=HistoryBook)
    job_records: dict[str, Counter[str]] = field(default_factory=dict)  # per job and stream
    errors: dict[str, list[str]] = field(default_factory=dict)  # per job: its first error lines
    last_said: dict[str, deque[str]] = field(default_factory=dict)  # per job: the plugins' last lines
    # The signal that stopped the run (e.g. "SIGTERM"), None if it was not stopped: stopping.py.
    stopped: str | None = None

    @property
    def ok(self) -> bool:
        return self.stopped is None and all(code == 0 for code in self.returncodes.values())

    def failed_jobs(self) -> list[str]:
        return [job for job, code in self.returncodes.items() if code != 0]

    def first_error(self, job: str) -> str | None:
        """The line of ``job`` that says what failed: a plugin's first error line, else the last line of
        the plugin meltano says failed (extractor or loader), else meltano's own error."""
        errors = [line for line in self.errors.get(job, []) if not _generic(line)]
        plugins = [line for line in errors if not line.startswith("meltano:")]
        failed = " ".join(self.errors.get(job, []))
        kind = "tap-" if "Extractor failed" in failed else "target-" if "Loader failed" in failed else ""
        last = [line for line in reversed(self.last_said.get(job, ())) if line.startswith(kind) and not _generic(line)]
        return next(iter(plugins + last + errors), None)

    def records_by_tap(self) -> dict[str, int]:
        totals: Counter[str] = Counter()
        for (tap, _stream), count in self.records.items():
            totals[tap] += count
        return dict(totals)


def _generic(line: str) -> bool:
    message = line.split(": ", 1)[-1]
    return not message.strip() or message[0].isspace() or any(generic in message for generic in GENERIC_ERRORS)


class _Output:
    """One log file and the terminal, shared by the jobs' reader threads."""

    def __init__(self, log_path: Path, report: RunReport, progress: RunProgress) -> None:
        self.log = log_path.open("a")
        self.report = report
        self.progress = progress
        self.lock = threading.Lock()

    def line(self, line: str, job: str = "") -> None:
        with self.lock:
            self.log.write(line)
            match = LOG_LINE.match(line.rstrip())
            if not match:
                return
            plugin, message = match["plugin"], match["message"]
            metric = METRIC.search(message)
            said = None
            if metric:
                self._count(job, plugin, metric["json"])
            elif said := self.report.history.note(job, plugin, message):
                self.progress.history(job, said)
            if metric or said:
                return
            said_line = f"{plugin}: {ANSI.sub('', message).rstrip()}"
            if match["level"] in ("error", "critical") and len(self.report.errors.setdefault(job, [])) < 50:
                self.report.errors[job].append(said_line)
            if plugin != "meltano":
                self.report.last_said.setdefault(job, deque(maxlen=20)).append(said_line)
            if (match["level"] in SHOWN_LEVELS and plugin != "meltano") or SHOWN.search(message):
                print(f"  {plugin:<18} {ANSI.sub('', message)[:300]}", flush=True)

    def _count(self, job: str, plugin: str, payload: str) -> None:
        try:
            metric = json.loads(payload)
        except ValueError:
            return
        # Loaders count the same records again on their side.
        if metric.get("metric") == "record_count" and not plugin.startswith("target-"):
            stream = metric.get("tags", {}).get("stream", "?")
            self.report.records[(plugin, stream)] += int(metric["value"])
            self.report.job_records.setdefault(job, Counter())[stream] += int(metric["value"])
            self.progress.records(job, stream, int(metric["value"]))

    def close(self) -> None:
        self.log.close()


def _environment(environment: str | None) -> list[str]:
    return [f"--environment={environment}"] if environment else []


def _start(
    job: str, root: Path, environment: str | None, env: dict[str, str], output: _Output
) -> tuple[subprocess.Popen[str], threading.Thread]:
    """``meltano run job`` in a session of its own: a Ctrl-C reaches it only through :func:`_stop_groups`."""
    process = subprocess.Popen(
        [MELTANO, *_environment(environment), "run", job],
        cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    reader = threading.Thread(target=_relay, args=(process.stdout, job, output), daemon=True)
    reader.start()
    return process, reader


def _relay(stream: IO[str] | None, job: str, output: _Output) -> None:
    """Hand each line of a job's output to ``output`` until the job closes it; then close it here too."""
    assert stream is not None
    with stream:
        for line in stream:
            output.line(line, job)


def _stop_groups(processes: list[subprocess.Popen[str]]) -> None:
    """Stop ``processes`` (each :func:`_start`'s) and what they started: meltano, its plugins, dbt_invoker, dbt.

    SIGTERM to every group at once (meltano then marks its run failed), 30 s for them to end, then
    SIGKILL to whatever is left of the groups.
    """
    for sig, wait in ((signal.SIGTERM, 30.0), (signal.SIGKILL, 10.0)):
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
        deadline = time.monotonic() + wait
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(deadline - time.monotonic(), 0.0))


def _run_sources_then_reports(
    reports: str,
    root: Path,
    environment: str | None,
    env: dict[str, str],
    output: _Output,
    lock: LoadsLock | None,
    record_to: Mapping[str, Any] | None,
    runs: RunRecorder | None,
) -> None:
    """The sources side by side, then ``reports`` if all of them loaded.

    With ``lock``, the reports start once the first source has loaded, held back by it until the last one has.
    With ``record_to``, each source that succeeds records the history it still owes there.
    With ``runs``, each job's start and end are recorded (``runs.py``).
    """
    report = output.report
    started = time.monotonic()
    for job in SOURCE_JOBS:
        output.progress.start(job)
        if runs:
            runs.start(job)
    running: dict[str, tuple[subprocess.Popen[str], threading.Thread]] = {}
    ahead: tuple[subprocess.Popen[str], threading.Thread] | None = None

    def start_reports(job_env: dict[str, str]) -> None:
        nonlocal ahead
        if runs:
            runs.start(reports)
        with deferred():  # a stop signal waits until the started run is in ``ahead``, where the cleanup finds it
            ahead = _start(reports, root, environment, job_env, output)

    try:
        for job in SOURCE_JOBS:
            with deferred():  # a stop signal waits until the started run is where the cleanup finds it
                running[job] = _start(job, root, environment, env, output)
        while running:
            output.progress.tick()
            for job, (process, reader) in list(running.items()):
                if process.poll() is None:
                    continue
                reader.join()
                report.returncodes[job] = process.returncode
                output.progress.end(job, process.returncode)
                del running[job]
                if record_to is not None and process.returncode == 0:
                    _record_history(record_to, report.history.of(job))
                if runs:
                    _record_end(runs, report, job)
                if lock and ahead is None and running and report.ok:
                    print(f"[sync] meltano run {reports} (started ahead: it waits for the loads)", flush=True)
                    start_reports({**env, **lock.dbt_env()})
            time.sleep(0.1)
        loaded = time.monotonic()
        report.seconds["+".join(SOURCE_JOBS)] = loaded - started
        if not report.ok:
            return
        if lock:
            lock.release()
        if ahead is None:  # no lock, or every source ended in the same moment
            print(f"[sync] meltano run {reports}", flush=True)
            start_reports(env)
        assert ahead is not None  # started just above, or ahead of the loads
        process, reader = ahead
        report.returncodes[reports] = process.wait()
        ahead = None
        reader.join()
        report.seconds[reports] = time.monotonic() - loaded
        if runs:
            _record_end(runs, report, reports)
    except Stopped as stopped:
        report.stopped = stopped.name  # before the cleanup below, which records what it stops
        raise
    finally:
        # A source failed (the reports started ahead wait), or this process is being stopped (stopping.py).
        with deferred():  # a stop signal now waits for this cleanup
            left = [*running.values(), *([ahead] if ahead is not None else [])]
            _stop_groups([process for process, _reader in left])
            for _process, reader in left:
                reader.join(timeout=10)
            if runs and ahead is not None and not report.stopped:
                failed = ", ".join(report.failed_jobs())
                runs.end(reports, "failed", None, error=f"bloom-sync: not built, {failed} failed")


def _record_history(record_to: Mapping[str, Any], pending: list[Pending]) -> None:
    """Write what a source still owes to the warehouse; a failure to do so is a warning, not the sync's."""
    try:
        record_pending(record_to, pending)
    except psycopg.Error as error:
        print(f"[sync] warning: the pending history was not recorded ({_first_line(error)})", flush=True)


def _record_end(runs: RunRecorder, report: RunReport, job: str) -> None:
    """Record how ``job`` ended: its outcome, records per stream, pending history and first error."""
    code = report.returncodes[job]
    outcome = "succeeded" if code == 0 else "stopped" if report.stopped else "failed"
    error = None if code == 0 else report.first_error(job) or f"{job} exited with code {code}"
    runs.end(job, outcome, code, report.job_records.get(job), report.history.of(job), error)


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _system_database_exists(env: dict[str, str]) -> bool:
    """Whether ``MELTANO_DATABASE_URI`` names a SQLite file that a Meltano run has already created."""
    uri = env.get("MELTANO_DATABASE_URI", "")
    if not uri.startswith("sqlite:///"):
        return False  # meltano.yml's or the default location, or another server: not guessed here
    path = Path(uri.removeprefix("sqlite:///"))
    return path.is_file() and path.stat().st_size > 0


def _prepare_system_database(root: Path, environment: str | None, env: dict[str, str], output: _Output) -> int:
    """Create or migrate Meltano's system database once: concurrent first runs would race to do it.

    Skipped (a second of a Meltano start) when the variables name a SQLite file that exists.
    """
    if _system_database_exists(env):
        return 0
    done = subprocess.run(
        [MELTANO, *_environment(environment), "state", "list"],
        cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    for line in done.stdout.splitlines(keepends=True):
        output.line(line)
    return done.returncode


def run_pipeline(
    root: Path,
    environment: str | None,
    env: dict[str, str],
    log_path: Path,
    reports: str = REPORTS_JOB,
    warehouse: str | None = None,
    record_to: Mapping[str, Any] | None = None,
    progress: RunProgress | None = None,
) -> RunReport:
    """Sync the three sources at once, then run ``reports`` (a job or a dbt command) if all of them loaded.

    ``warehouse``: a libpq connection string of the database the loader and dbt use, reached
    directly (no pooler): the reports then start ahead of the loads' end (module docstring).
    ``record_to``: ``psycopg.connect`` arguments of that database (``warehouse``'s when not given):
    each source that succeeds records there the history it still owes (``history.py``).
    ``progress``: how progress is shown (default: bars in a terminal, plain lines elsewhere).
    With ``record_to``, the run's jobs are also recorded in ``bloom_sync.runs`` (``runs.py``).
    """
    if record_to is None and warehouse:
        record_to = {"conninfo": warehouse}
    report = RunReport()
    output = _Output(log_path, report, progress or RunProgress())
    lock = LoadsLock.take(warehouse) if warehouse else None
    runs = RunRecorder(record_to, environment) if record_to is not None else None
    try:
        report.returncodes["meltano state list"] = _prepare_system_database(root, environment, env, output)
        if not report.ok:
            return report
        print(f"[sync] meltano run {' | '.join(SOURCE_JOBS)} (side by side)", flush=True)
        _run_sources_then_reports(reports, root, environment, env, output, lock, record_to, runs)
        return report
    except Stopped as stopped:  # what it started is stopped by now
        report.stopped = stopped.name
        return report
    finally:
        with deferred():
            if runs:
                if report.stopped:  # the jobs that had not ended were stopped (their rows still run)
                    for job in [*SOURCE_JOBS, reports]:
                        code = report.returncodes.get(job)
                        history = report.history.of(job)
                        runs.end(job, "stopped", code, report.job_records.get(job), history, report.stopped)
                runs.close()
            if lock:
                lock.close()
            output.progress.stop()
            output.close()
