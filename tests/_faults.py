"""Harness of the fault, kill and concurrency tests: one store, fresh warehouses, real `meltano run`s.

A *scenario* is one warehouse database and one Meltano system database, synced from a sandbox
store by ``meltano --environment=demo run`` (each source's job, then the reports), with faults
injected in the sandbox or the run killed with SIGKILL and run again. A kill point is placed by
the run's progress, not by the clock alone: it waits for the log line the undisturbed run had
written at that moment, so the kill lands while the run is alive however loaded the machine is. Its result is compared
with the undisturbed run of the same store: every table of ``raw_shopify``, ``raw_ads``,
``raw_shipping`` and ``reports``, by row count and md5 of its business columns (columns
starting with ``_`` record when a row was loaded or built), plus a duplicate check on each
table's primary key.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import psycopg
from _helpers import PG_HOST, PG_PORT, admin_dsn, project

from bloom_suite.demo import FIRST_REPORTS, HISTORY_REPORTS, RECENT_ONLY
from bloom_suite.processes import Sandbox, meltano_env

MELTANO = Path(sys.executable).parent / "meltano"
SCHEMAS = ("raw_shopify", "raw_ads", "raw_shipping", "reports")
SOURCE_JOBS = ("sync-shopify", "sync-ads", "sync-shipping")
SYNC = (*SOURCE_JOBS, "build-reports")
# Small windows and a low bulk threshold: a small store still goes through bulk operations
# (so bulk faults have operations to hit) and through several history months.
TAP_SETTINGS = {"TAP_SHOPIFY_BLOOM_BULK_THRESHOLD": "15", "TAP_SHOPIFY_BLOOM_INITIAL_WINDOW_DAYS": "7"}


@dataclass
class Outcome:
    """One finished (or killed) ``meltano run``."""

    returncode: int
    seconds: float
    log: str
    line_times: list[float] = field(default_factory=list)  # seconds from the start at which each log line came
    killed_at: float | None = None  # when the SIGKILL was sent, if it was
    hit: bool = False  # the SIGKILL found the run alive (it did not end by itself first)


@dataclass(frozen=True)
class KillPoint:
    """Where to SIGKILL a run: ``delay`` seconds after its log line number ``line`` (0: its start),
    or at once when the next line comes first.

    Taken from the undisturbed run of the same phase at a ``fraction`` of its duration, it lands
    at the same step of the work on a faster or slower machine, and always before the run ends.
    """

    fraction: float
    line: int
    delay: float
    of_lines: int

    @classmethod
    def at(cls, fraction: float, line_times: list[float], seconds: float) -> KillPoint:
        """The point at ``fraction`` of an undisturbed run, kept 5 lines and 1.5 s before its end."""
        moment = min(fraction * seconds, seconds - 1.5)
        line = min(sum(1 for t in line_times if t <= moment), max(len(line_times) - 5, 0))
        anchor = line_times[line - 1] if line else 0.0
        return cls(fraction, line, max(0.0, moment - anchor), len(line_times))

    def due(self, line_times: list[float], elapsed: float) -> bool:
        """Whether a run that has written ``line_times`` and runs since ``elapsed`` seconds is at the point."""
        if len(line_times) < self.line:
            return False
        anchor = line_times[self.line - 1] if self.line else 0.0
        return len(line_times) > self.line or elapsed - anchor >= self.delay


@dataclass
class Warehouse:
    """A warehouse database and a Meltano system database, synced from ``sandbox``."""

    sandbox: Sandbox
    database: str
    workdir: Path
    start_date: str
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def dsn(self) -> str:
        return f"host={PG_HOST} port={PG_PORT} user=postgres dbname={self.database}"

    def env(self) -> dict[str, str]:
        return meltano_env(
            BLOOM_PG_PORT=PG_PORT,
            BLOOM_PG_DATABASE=self.database,
            BLOOM_SANDBOX_PORT=self.sandbox.url.rsplit(":", 1)[1],
            BLOOM_START_DATE=self.start_date,
            MELTANO_DATABASE_URI=f"sqlite:///{self.workdir / 'meltano.db'}",
            **TAP_SETTINGS,
            **self.extra_env,
        )

    def start(self, *args: str, program: Path = MELTANO, piped: bool = False) -> subprocess.Popen[str]:
        """``meltano --environment=demo <args>`` (or ``program``) in its own process group, output to the log
        (or to a pipe, when ``piped``)."""
        with (self.workdir / "meltano.log").open("a") as log:
            log.write(f"\n===== {program.name} {' '.join(args)}\n")
            log.flush()
            return subprocess.Popen(  # the child writes to its own copy of the log's descriptor
                [str(program), "--environment=demo", *args], cwd=project(), env=self.env(),
                stdout=subprocess.PIPE if piped else log,
                stderr=subprocess.STDOUT, text=True, start_new_session=True,
            )  # fmt: skip

    def run(self, *args: str, kill: KillPoint | None = None, timeout: float = 900) -> Outcome:
        """Run to the end, or SIGKILL the whole process group at ``kill``; the log lines are timed as they come."""
        started = time.monotonic()
        process = self.start(*args, piped=True)
        lines: list[str] = []
        times: list[float] = []
        reader = threading.Thread(target=_read, args=(process, self.workdir / "meltano.log", lines, times, started),
                                  daemon=True)  # fmt: skip
        reader.start()
        killed_at = None
        while process.poll() is None:
            elapsed = time.monotonic() - started
            if kill is not None and kill.due(times, elapsed):
                killed_at = elapsed
                kill_group(process)
                break
            if elapsed > timeout:
                kill_group(process)
                raise TimeoutError(f"meltano {' '.join(args)} ran longer than {timeout:.0f} s")
            time.sleep(0.02)
        reader.join(timeout=30)
        hit = killed_at is not None and process.returncode == -signal.SIGKILL
        return Outcome(process.returncode, time.monotonic() - started, "".join(lines), times, killed_at, hit)

    def sync(self, jobs: tuple[str, ...] = SYNC, **kwargs: KillPoint | None) -> Outcome:
        """``meltano run`` of the three sources' jobs and the reports (as ``sync-all`` does, one after another)."""
        return self.run("run", *jobs, **kwargs)

    def query(self, sql: str, params: object = None) -> list[tuple]:
        with psycopg.connect(self.dsn) as conn:
            return conn.execute(sql, params).fetchall()


def _read(process: subprocess.Popen[str], log_path: Path, lines: list[str], times: list[float], started: float) -> None:
    """Copy the run's output to its log file, noting when each line came."""
    assert process.stdout is not None
    with log_path.open("a") as log, process.stdout:
        for line in process.stdout:
            log.write(line)
            lines.append(line)
            times.append(time.monotonic() - started)


def kill_group(process: subprocess.Popen[str]) -> None:
    """SIGKILL meltano and every plugin it started (taps, target, dbt), as a power cut would."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


@contextmanager
def warehouse(sandbox: Sandbox, workdir: Path, now: str, months: int = 24) -> Iterator[Warehouse]:
    """A fresh warehouse database (dropped afterwards) and its own Meltano system database."""
    name = f"bloom_faults_{uuid.uuid4().hex[:8]}"
    folder = workdir / name
    folder.mkdir(parents=True)
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    start = (date.fromisoformat(now) - timedelta(days=31 * months + 5)).isoformat()
    try:
        yield Warehouse(sandbox=sandbox, database=name, workdir=folder, start_date=start)
    finally:
        with psycopg.connect(admin_dsn(), autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


# Columns that record when a row was synced, not what the API said (beside the "_" ones).
SYNC_TIME_COLUMNS = {"synced_at"}


@dataclass(frozen=True)
class TableSum:
    """A table's business content: rows, md5 of the sorted rows, rows sharing a primary key, rows by key."""

    rows: int
    digest: str  # of the rows with nested arrays of objects in id order (see canonical)
    duplicate_keys: int
    by_key: dict[str, dict] = field(compare=False, repr=False)
    exact_digest: str = ""  # of the rows as stored, nested arrays in their stored order


def canonical(value: object) -> object:
    """``value`` with every list of objects that have an ``id`` sorted by it.

    Shopify gives no order for a bulk result's children (they are joined by ``__parentId``),
    so the order of an order's line items may differ between a bulk and a paged fetch.
    """
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [canonical(v) for v in value]
        if items and all(isinstance(v, dict) and "id" in v for v in items):
            items.sort(key=lambda v: str(v["id"]))
        return items
    return value


def snapshot(wh: Warehouse) -> dict[str, TableSum]:
    """Every table of the raw and report schemas, summed up."""
    sums = {}
    with psycopg.connect(wh.dsn) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_schema = any(%s) and table_type = 'BASE TABLE' order by 1, 2",
            (list(SCHEMAS),),
        ).fetchall()
        for schema, table in tables:
            columns = [row[0] for row in conn.execute(
                "select column_name from information_schema.columns where table_schema = %s and table_name = %s"
                " and column_name not like '\\_%%' order by column_name", (schema, table)).fetchall()
                if row[0] not in SYNC_TIME_COLUMNS]  # fmt: skip
            keys = [row[0] for row in conn.execute(
                "select a.attname from pg_index i join pg_attribute a on a.attrelid = i.indrelid"
                " and a.attnum = any(i.indkey) where i.indrelid = %s::regclass and i.indisprimary order by 1",
                (f'"{schema}"."{table}"',)).fetchall()]  # fmt: skip
            quoted = ", ".join(f'"{c}"' for c in columns)
            key = ", ".join(f'"{c}"' for c in keys) if keys else quoted
            ((rows, exact),) = conn.execute(
                f"select count(*), md5(coalesce(string_agg(r::text, '|' order by r::text), ''))"
                f' from (select {quoted} from "{schema}"."{table}") as r'
            ).fetchall()
            ((duplicates,),) = conn.execute(
                f'select coalesce(sum(n - 1), 0) from (select count(*) as n from "{schema}"."{table}"'
                f" group by {key}) as k"
            ).fetchall()
            by_key = {str(k): v for k, v in conn.execute(
                f"select row({key})::text, to_jsonb(r) from (select {quoted} from \"{schema}\".\"{table}\") as r"
            ).fetchall()}  # fmt: skip
            by_key = {k: canonical(v) for k, v in by_key.items()}
            text = "|".join(json.dumps(by_key[k], sort_keys=True) for k in sorted(by_key))
            digest = hashlib.md5(text.encode()).hexdigest()
            sums[f"{schema}.{table}"] = TableSum(rows, digest, int(duplicates), by_key, exact)
    return sums


def differences(expected: dict[str, TableSum], got: dict[str, TableSum]) -> list[str]:
    """What differs between two snapshots, table by table ([] when identical and without duplicates)."""
    problems = []
    for table in sorted(expected.keys() | got.keys()):
        want, have = expected.get(table), got.get(table)
        if have is None:
            problems.append(f"{table}: missing")
        elif want is None:
            problems.append(f"{table}: not in the undisturbed run")
        elif have.duplicate_keys:
            problems.append(f"{table}: {have.duplicate_keys} rows share a primary key")
        elif (have.rows, have.digest) != (want.rows, want.digest):
            problems.append(f"{table}: {have.rows} rows (md5 {have.digest[:8]}) != {want.rows} (md5 {want.digest[:8]})"
                            f"; {row_differences(want.by_key, have.by_key)}")  # fmt: skip
    return problems


def row_differences(want: dict[str, dict], have: dict[str, dict], shown: int = 3) -> str:
    """The first keys missing, extra or different (with the columns that differ)."""
    missing = sorted(want.keys() - have.keys())
    extra = sorted(have.keys() - want.keys())
    changed = [k for k in sorted(want.keys() & have.keys()) if want[k] != have[k]]
    parts = []
    if missing:
        parts.append(f"{len(missing)} missing, e.g. {missing[:shown]}")
    if extra:
        parts.append(f"{len(extra)} extra, e.g. {extra[:shown]}")
    for k in changed[:shown]:
        columns = {c: (want[k].get(c), have[k].get(c)) for c in want[k] if want[k].get(c) != have[k].get(c)}
        shown_columns = "; ".join(f"{c}: {str(a)[:300]} -> {str(b)[:300]}" for c, (a, b) in columns.items())
        parts.append(f"{k} differs: {shown_columns}")
    if len(changed) > shown:
        parts.append(f"{len(changed)} rows differ in all")
    return " | ".join(parts)


def reordered(expected: dict[str, TableSum], got: dict[str, TableSum]) -> list[str]:
    """Tables equal but for the order of nested arrays (the stored rows differ, their canonical form not)."""
    return [t for t in sorted(expected.keys() & got.keys()) if expected[t].digest == got[t].digest
            and expected[t].exact_digest != got[t].exact_digest]  # fmt: skip


def rows_compared(snap: dict[str, TableSum]) -> int:
    return sum(table.rows for table in snap.values())


def faults(sandbox: Sandbox, specs: list[dict]) -> None:
    """Replace the sandbox's active faults."""
    sandbox.post("/_sandbox/faults", {"faults": specs})


def injected(sandbox: Sandbox) -> int:
    """How many faults the sandbox has injected so far."""
    return int(sandbox.get("/_sandbox/stats")["faults_injected"])


def clear_faults(sandbox: Sandbox) -> None:
    """Clear every fault (``DELETE /_sandbox/faults``)."""
    import urllib.request

    request = urllib.request.Request(f"{sandbox.url}/_sandbox/faults", method="DELETE")
    with urllib.request.urlopen(request, timeout=60):
        pass


@dataclass(frozen=True)
class Phase:
    """One ``meltano run`` of the store's life: its name, jobs, settings, and days the store moves first."""

    name: str
    jobs: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()
    advance_days: int = 0


# A new installation's life, as `make demo` lives it: the quick first pass (every tap's live
# window only, then the reports untested), the history (then the reports rebuilt from scratch),
# then a daily incremental run after the store moved on.
PHASES = (
    Phase("first sync", (*SOURCE_JOBS, FIRST_REPORTS), tuple(RECENT_ONLY.items())),
    Phase("backfill", (*SOURCE_JOBS, HISTORY_REPORTS)),
    Phase("incremental", SYNC, advance_days=3),
)


def run_phase(
    wh: Warehouse, phase: Phase, *, kill: KillPoint | None = None, env: dict[str, str] | None = None
) -> Outcome:
    """Run ``phase`` with its settings and ``env`` (the store is moved by the caller), or kill it at ``kill``."""
    wh.extra_env = {**dict(phase.env), **(env or {})}
    return wh.sync(phase.jobs, kill=kill)


def clone(wh: Warehouse, workdir: Path) -> Warehouse:
    """A copy of ``wh``: its warehouse database (as a template) and its Meltano system database."""
    name = f"bloom_faults_{uuid.uuid4().hex[:8]}"
    folder = workdir / name
    folder.mkdir(parents=True)
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        conn.execute(f'create database "{name}" template "{wh.database}"')
    if (wh.workdir / "meltano.db").exists():
        (folder / "meltano.db").write_bytes((wh.workdir / "meltano.db").read_bytes())
    return Warehouse(sandbox=wh.sandbox, database=name, workdir=folder, start_date=wh.start_date)


def drop(wh: Warehouse) -> None:
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{wh.database}" with (force)')
