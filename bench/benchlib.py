"""Helpers shared by the benchmarks: a fresh warehouse, the demo's environment, memory peaks, the machine.

The services come from ``bloom_suite`` (embedded Postgres, sandbox subprocess, meltano env);
this module only adds what a measurement needs around them.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psutil
import psycopg
from tap_shipping.settings import SHIPPO_LIMITS

from bloom_suite.embedded_pg import EmbeddedPostgres
from bloom_suite.processes import Sandbox, free_port, meltano_env
from bloom_suite.runner import MELTANO

ROOT = Path(__file__).resolve().parents[1]
DATABASE = "bloom"
MB = 1024 * 1024
SPEEDUP = 100  # lifted limits: the shipping APIs' rate windows this many times shorter


# Lifted limits for Shopify: the sandbox's enterprise plan (2,000 points/s) and instant bulk operations.
SHOPIFY_LIFTED = {"plan": "enterprise", "bulk_scale": 0.0}


def lift_shipping_limits() -> dict[str, int]:
    """Shorten the sandbox's shipping rate windows ``SPEEDUP`` times (the sandbox process reads the
    variable when it starts) and return tap-shipping's Shippo settings that match them."""
    os.environ["BLOOM_SANDBOX_SHIPPING_RATE_WINDOW"] = str(60 / SPEEDUP)
    # A (shortened) window's worth at once, as many a minute as SPEEDUP windows hold.
    return {"shippo_requests_per_minute": SHIPPO_LIMITS["live"] * SPEEDUP, "shippo_burst": SHIPPO_LIMITS["live"]}


@dataclass
class Warehouse:
    """One empty database on a PostgreSQL server reached over TCP."""

    host: str
    port: int
    database: str
    server: str  # "embedded" or "local"
    pid: int | None = None  # the embedded server's postmaster (not a child of this process)

    @property
    def dsn(self) -> str:
        return f"host={self.host} port={self.port} user=postgres dbname={self.database}"


@contextmanager
def fresh_warehouse(kind: str, workdir: Path) -> Iterator[Warehouse]:
    """A new empty database: on a new embedded server (as ``make demo``) or on the local server at 5432."""
    if kind == "embedded":
        postgres = EmbeddedPostgres(data_dir=workdir / "pgdata", port=free_port())
        postgres.start()
        try:
            postgres.create_database(DATABASE)
            postmaster = int((workdir / "pgdata" / "postmaster.pid").read_text().split()[0])
            yield Warehouse(postgres.host, postgres.port, DATABASE, kind, postmaster)
        finally:
            postgres.stop()
        return
    name = f"bloom_bench_{uuid.uuid4().hex[:8]}"
    admin = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    try:
        yield Warehouse("127.0.0.1", 5432, name, kind)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


@contextmanager
def workdir(keep: bool) -> Iterator[Path]:
    """A scratch folder that the embedded server's user can traverse (kept with ``--keep``)."""
    folder = Path(tempfile.mkdtemp(prefix="bloom-bench-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        if keep:
            print(f"[bench] kept {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)


def store_clock() -> str:
    """The sandbox store's clock: yesterday (UTC), so that one advanced day ends today, as in real life."""
    return (datetime.now(UTC).date() - timedelta(days=1)).isoformat()


def demo_env(warehouse: Warehouse, sandbox: Sandbox | None, folder: Path, now: str) -> dict[str, str]:
    """The environment ``bloom_suite.demo`` gives ``meltano --environment=demo`` (same variables)."""
    start_date = (date.fromisoformat(now) - timedelta(days=750)).isoformat()
    return meltano_env(
        BLOOM_PG_PORT=str(warehouse.port),
        BLOOM_PG_DATABASE=warehouse.database,
        BLOOM_SANDBOX_PORT=sandbox.url.rsplit(":", 1)[1] if sandbox else "0",
        BLOOM_START_DATE=start_date,
        MELTANO_DATABASE_URI=f"sqlite:///{folder / 'meltano.db'}",
        MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
    )


def resolved_config(project: Path, plugin: str, env: dict[str, str]) -> dict:
    """The plugin's config in the demo environment, secrets included (all sandbox placeholders)."""
    done = subprocess.run(
        [MELTANO, "--environment=demo", "config", "--unsafe", "print", plugin],
        cwd=project, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)


def executable(kind: str, plugin: str) -> str:
    return str(ROOT / ".meltano" / kind / plugin / "venv" / "bin" / plugin)


# Process kinds, from the basename of the first arguments of a command line.
KINDS = {
    "tap-shopify-bloom": "tap-shopify-bloom",
    "tap-adplatforms": "tap-adplatforms",
    "tap-shipping": "tap-shipping",
    "target-postgres": "target-postgres",
    "dbt_invoker": "dbt",
    "dbt": "dbt",
    "meltano": "meltano",
}


def process_kind(cmdline: list[str]) -> str | None:
    """``tap-shopify-bloom``, ``target-postgres``, ``dbt``, ``meltano``, ``sandbox`` or None."""
    for arg in cmdline[:3]:
        name = os.path.basename(arg)
        if name in KINDS:
            return KINDS[name]
        if arg == "bloom_sandbox.cli":
            return "sandbox"
    return None


def _children(process: psutil.Process) -> list[psutil.Process]:
    try:
        return process.children()
    except psutil.Error:
        return []


def _peak_rss(process: psutil.Process) -> int:
    """The process's peak resident set so far (VmHWM), else its current RSS."""
    try:
        with open(f"/proc/{process.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        return process.memory_info().rss
    except (OSError, psutil.Error):
        return 0


@dataclass
class ProcessWatch:
    """Peak RSS (VmHWM, sampled every ``interval`` s), wall span and CPU time of this process's descendants, by kind.

    ``postgres``: a server's postmaster pid, its processes watched too (kind ``postgres``).

    A process's peak is its highest VmHWM read while it ran, its CPU time (user + system)
    the last read less, for a process started before the watch (the sandbox), the first;
    only what happens in its last ``interval`` before it exits can be missed.
    """

    postgres: int | None = None
    interval: float = 0.1
    peaks: dict[str, int] = field(default_factory=dict)
    #: kind -> [first start, last seen] (epoch seconds) of the processes of that kind
    spans: dict[str, list[float]] = field(default_factory=dict)
    #: pid -> [kind, CPU seconds before the watch, CPU seconds at the last sample]
    cpu: dict[int, list] = field(default_factory=dict)
    started: float = field(default_factory=time.time)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> ProcessWatch:
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()

    def _sample(self) -> None:
        me = psutil.Process()
        kinds: dict[int, str | None] = {}
        server = [psutil.Process(self.postgres)] if self.postgres else []
        while not self._stop.is_set():
            servers = [*server, *(p for s in server for p in _children(s))]
            for child in [*me.children(recursive=True), *servers]:
                if child.pid not in kinds:
                    try:
                        kinds[child.pid] = "postgres" if child in servers else process_kind(child.cmdline())
                    except psutil.Error:
                        continue
                kind = kinds[child.pid]
                if kind:
                    self.peaks[kind] = max(self.peaks.get(kind, 0), _peak_rss(child))
                    self._span(kind, child)
                    self._cpu(kind, child)
            self._stop.wait(self.interval)

    def _span(self, kind: str, process: psutil.Process) -> None:
        try:
            started = process.create_time()
        except psutil.Error:
            return
        span = self.spans.setdefault(kind, [started, started])
        span[0] = min(span[0], started)
        span[1] = max(span[1], time.time())

    def _cpu(self, kind: str, process: psutil.Process) -> None:
        try:
            times = process.cpu_times()
            seconds = times.user + times.system
            if process.pid not in self.cpu:
                before = seconds if process.create_time() < self.started else 0.0
                self.cpu[process.pid] = [kind, before, seconds]
        except psutil.Error:
            return
        self.cpu[process.pid][2] = seconds

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds (user + system) of the processes of each kind while watched, summed."""
        totals: dict[str, float] = {}
        for kind, before, last in self.cpu.values():
            totals[kind] = totals.get(kind, 0.0) + last - before
        return totals

    def seconds(self, kind: str) -> float | None:
        """Wall seconds from the first process of ``kind`` starting to the last one last seen."""
        span = self.spans.get(kind)
        return None if span is None else span[1] - span[0]


def load_average() -> str:
    """``uptime``'s load averages (1, 5, 15 min)."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def machine() -> str:
    """One line about this machine."""
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = psutil.virtual_memory().total / 1024**3
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GB RAM, {platform.system()} {platform.release()}"


def server_version(dsn: str) -> str:
    with psycopg.connect(dsn) as conn:
        return str(conn.execute("show server_version").fetchone()[0]).split()[0]  # type: ignore[index]


def base_tables(conn: psycopg.Connection, schema: str) -> list[str]:
    """The names of the base tables of ``schema``, sorted."""
    rows = conn.execute(
        "select table_name from information_schema.tables where table_schema = %s and table_type = 'BASE TABLE'"
        " order by table_name",
        (schema,),
    )
    return [str(row[0]) for row in rows]


def table_columns(conn: psycopg.Connection, schema: str, table: str) -> list[str]:
    """The column names of ``schema.table`` in their order."""
    rows = conn.execute(
        "select column_name from information_schema.columns where table_schema = %s and table_name = %s"
        " order by ordinal_position",
        (schema, table),
    )
    return [str(row[0]) for row in rows]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def spread(values: list[float], fmt: str = "{:.1f}") -> str:
    """``median (min-max, n runs)`` or the single value."""
    if len(values) == 1:
        return fmt.format(values[0])
    low, high = fmt.format(min(values)), fmt.format(max(values))
    return f"{fmt.format(median(values))} ({low}-{high}, {len(values)} runs)"


def now_stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


class Stopwatch:
    """Seconds since it was made."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.started_wall = time.time()

    def __call__(self) -> float:
        return time.monotonic() - self.started
