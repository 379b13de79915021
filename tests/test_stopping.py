"""Stopping is clean: SIGTERM, or Ctrl-C's SIGINT, to ``bloom-demo`` and ``bloom-sync`` in the middle of the loads.

Real processes and real signals: each command runs in a session of its own, with a marker in its
environment that every process it starts inherits (meltano, the taps, target-postgres, dbt, the
sandbox, the embedded PostgreSQL). Once a tap runs, the test signals the command as ``kill`` does
(SIGTERM to its process), as Ctrl-C does (SIGINT to its process group) and, for bloom-sync, as a
closed terminal does (SIGHUP to the group), twice: the second signal lands while it stops. It checks
that the command exits with 128 + n and one line, that no marked process and no process of any
session seen is left, that the demo's PostgreSQL is down, and that the next run succeeds.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

import pytest
from _helpers import project
from test_demo import run_demo

from bloom_suite.processes import free_port

if TYPE_CHECKING:
    from conftest import Pipeline

BIN = Path(sys.executable).parent
MARK = "BLOOM_STOP_TEST"
STOPS = [
    pytest.param(signal.SIGTERM, False, id="SIGTERM"),
    pytest.param(signal.SIGINT, True, id="SIGINT-to-the-group"),
]
# A closed terminal: the kernel sends SIGHUP to its foreground process group.
HANGUP = pytest.param(signal.SIGHUP, True, id="SIGHUP-to-the-group")


@dataclass
class Command:
    """A command started in its own session, its output collected as it comes."""

    process: subprocess.Popen[str]
    marker: str
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    sessions: set[int] = field(default_factory=set)  # of the processes it started, seen while it ran

    def output(self) -> str:
        return "".join(self.stdout)[-4000:] + "\n" + "".join(self.stderr)[-4000:]


def start(command: list[str], env: dict[str, str]) -> Command:
    marker = uuid.uuid4().hex
    process = subprocess.Popen(
        command, cwd=project(), env={**env, MARK: marker}, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    started = Command(process, marker)
    for stream, lines in ((process.stdout, started.stdout), (process.stderr, started.stderr)):
        threading.Thread(target=_drain, args=(stream, lines), daemon=True).start()
    return started


def _drain(stream: IO[str], into: list[str]) -> None:
    """Collect a pipe's lines until the process closes it, then close it here too."""
    with stream:
        into.extend(stream)


def _proc(pid: str, name: str) -> bytes:
    try:
        return (Path("/proc") / pid / name).read_bytes()
    except OSError:  # gone meanwhile, or not ours to read
        return b""


def live_processes() -> dict[int, tuple[int, bytes, str]]:
    """Every live process (zombies aside): pid -> (session, environment, command line)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = _proc(entry.name, "stat").decode(errors="replace")
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) < 4 or fields[0] == "Z":
            continue
        command = _proc(entry.name, "cmdline").replace(b"\0", b" ").decode(errors="replace").strip()
        found[int(entry.name)] = (int(fields[3]), _proc(entry.name, "environ"), command)
    return found


def marked(command: Command) -> dict[int, str]:
    """The live processes that ``command`` started (its marker in their environment), noting their sessions."""
    mark = f"{MARK}={command.marker}".encode()
    found = {}
    for pid, (session, environ, line) in live_processes().items():
        if mark in environ.split(b"\0"):
            found[pid] = line
            command.sessions.add(session)
    return found


def wait_for(what: str, command: Command, ready: Callable[[], bool], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        ended = command.process.poll()
        assert ended is None, f"it ended (exit code {ended}) before {what}:\n{command.output()}"
        assert time.monotonic() < deadline, f"no {what} within {timeout:.0f} s:\n{command.output()}"
        time.sleep(0.2)


def stop_while_loading(command: Command, signum: int, *, to_group: bool, prefix: str) -> None:
    """Once a tap loads, signal ``command``; check its exit code and line, and that it left nothing behind."""
    wait_for(
        "[sync] meltano run", command, lambda: any(line.startswith("[sync] meltano run") for line in command.stdout)
    )
    wait_for(
        "tap process", command, lambda: any(" tap-" in line or "/tap-" in line for line in marked(command).values())
    )
    assert len(command.sessions) > 1, "meltano runs in sessions of their own: the test must see them"
    for _impatient in range(2):  # a second signal while it stops must not cut the cleanup short
        if command.process.poll() is None:
            if to_group:  # Ctrl-C in a terminal: the foreground process group
                os.killpg(command.process.pid, signum)
            else:
                command.process.send_signal(signum)
        time.sleep(0.3)
    try:
        returncode = command.process.wait(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(command.process.pid, signal.SIGKILL)
        raise
    time.sleep(0.5)  # the output threads' last lines
    assert returncode == 128 + signum, command.output()
    name = signal.Signals(signum).name
    assert command.stderr[-1].startswith(f"{prefix} stopped by {name}: what it started is stopped; "), command.output()
    left = marked(command)
    assert not left, f"left running: {left}"
    in_sessions = {pid: line for pid, (session, _env, line) in live_processes().items() if session in command.sessions}
    assert not in_sessions, f"left running in the sessions it started: {in_sessions}"


def _port_answers(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize(("signum", "to_group"), STOPS)
def test_a_stopped_demo_leaves_nothing_running_and_the_next_one_succeeds(signum: int, to_group: bool) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bloom-stop-test-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "MELTANO_DATABASE_URI"}
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    command = start(
        [str(BIN / "bloom-demo"), "--orders", "300", "--workdir", str(workdir), "--pg-port", str(port)], env
    )
    try:
        stop_while_loading(command, signum, to_group=to_group, prefix="[demo]")
        assert not _port_answers(port), f"the embedded PostgreSQL still listens on {port}"
        assert not (workdir / "pgdata" / "postmaster.pid").exists()
        # The next demo on the same folder and port starts (no taken port) and ends with its summary.
        output = run_demo(workdir, port, datetime.now(UTC).isoformat())
        assert "Profit summary for bloom-demo, last 30 days" in output
        assert not _port_answers(port)
    finally:
        if command.process.poll() is None:
            os.killpg(command.process.pid, signal.SIGKILL)
        shutil.rmtree(workdir, ignore_errors=True)


def _running_meltano_runs(pipeline: Pipeline) -> list[tuple[str, str]]:
    with sqlite3.connect(pipeline.workdir / "meltano.db") as db:
        return db.execute("select job_name, state from runs where state = 'RUNNING'").fetchall()


@pytest.mark.parametrize(("signum", "to_group"), [*STOPS, HANGUP])
def test_a_stopped_bloom_sync_leaves_nothing_running_and_the_next_one_resumes(
    small_pipeline: Pipeline, signum: int, to_group: bool
) -> None:
    command = start([str(BIN / "bloom-sync"), "--environment=demo"], small_pipeline.env())
    try:
        stop_while_loading(command, signum, to_group=to_group, prefix="bloom-sync:")
        # Meltano marked its runs ended: the next run is not refused as "already running".
        assert _running_meltano_runs(small_pipeline) == []
        # The run's record says stopped, by which signal, for every job it had not finished.
        rows = small_pipeline.query(
            "select job, outcome, error from bloom_sync.runs where run_id = "
            "(select run_id from bloom_sync.runs where pid = %s order by started_at desc limit 1)",
            (command.process.pid,),
        )
        outcomes = {outcome for _job, outcome, _error in rows}
        assert "stopped" in outcomes, rows
        assert outcomes <= {"stopped", "succeeded"}, rows
        name = signal.Signals(signum).name
        assert all(name in error for _job, outcome, error in rows if outcome == "stopped"), rows
        done = small_pipeline.bloom_sync()
        assert "bloom-sync: done; records synced" in done.stderr
        assert small_pipeline.query("select count(*) from reports.profit_daily")[0][0] > 0
    finally:
        if command.process.poll() is None:
            os.killpg(command.process.pid, signal.SIGKILL)
