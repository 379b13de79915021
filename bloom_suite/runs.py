"""A record of every run in the warehouse: ``bloom_sync.runs``, one row per run and job.

``run_pipeline`` (``bloom-sync`` and ``make demo``) inserts a job's row as ``running`` when the
job starts and sets its end, outcome, records per stream, the history still pending after it
and, for a failure, the first message of the tap, target or dbt (:func:`troubleshooting.scrub`:
no secret, no personal value) with the troubleshooting row it maps to.

A run killed with SIGKILL cannot write its end. So the recorder holds one warehouse session for
the whole run, named ``bloom-sync:<run_id>`` (``application_name``); the server ends that
session when the process dies. A reader (:func:`read_runs`) shows a ``running`` row whose session
is gone as ``killed``: it never stays running forever. (A machine that vanishes from the network
leaves its session open until the server's TCP keepalive gives up on it.)

Recording never fails a sync: the first error prints one warning line and recording stops.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from bloom_suite.history import SCHEMA, Pending
from bloom_suite.troubleshooting import STOPPED, row_for, scrub

TABLE = f"{SCHEMA}.runs"
OUTCOMES = ("running", "succeeded", "failed", "stopped", "killed")
SESSION_PREFIX = "bloom-sync:"
SOURCES = {"sync-shopify": "shopify", "sync-ads": "ads", "sync-shipping": "shipping"}

CREATE = f"""
    create schema if not exists {SCHEMA};
    create table if not exists {TABLE} (
        run_id uuid not null,
        job text not null,
        source text not null,
        environment text not null,
        started_at timestamptz not null default now(),
        ended_at timestamptz,
        outcome text not null check (outcome in ('running', 'succeeded', 'failed', 'stopped', 'killed')),
        exit_code integer,
        records jsonb not null default '{{}}',
        history jsonb not null default '[]',
        error text,
        troubleshooting text,
        pid integer not null,
        primary key (run_id, job)
    );
    create index if not exists runs_by_source on {TABLE} (environment, source, started_at desc)
"""
START = """
    insert into bloom_sync.runs (run_id, job, source, environment, outcome, pid)
    values (%s, %s, %s, %s, 'running', %s)
    on conflict (run_id, job) do nothing
"""
END = """
    update bloom_sync.runs set ended_at = now(), outcome = %s, exit_code = %s, records = %s, history = %s,
        error = %s, troubleshooting = %s
    where run_id = %s and job = %s and outcome = 'running'
"""
# Each source's latest rows and, however old, its last success; a running row whose session is gone was killed.
READ = """
    with ranked as (
        select *,
            row_number() over (partition by source order by started_at desc) as nth,
            row_number() over (partition by source, outcome = 'succeeded' order by started_at desc) as nth_alike
        from bloom_sync.runs
        where environment = %(environment)s
    )
    select run_id::text, job, source, environment, started_at, ended_at,
        case when outcome = 'running' and not exists (
            select from pg_stat_activity where application_name = %(prefix)s || run_id::text
        ) then 'killed' else outcome end as outcome,
        exit_code, records, history, error, troubleshooting
    from ranked
    where nth <= %(per_source)s or (outcome = 'succeeded' and nth_alike = 1)
    order by started_at desc, job
"""


def source_of(job: str) -> str:
    """The source a job syncs (``shopify``, ``ads``, ``shipping``), or ``reports`` for dbt's job."""
    return SOURCES.get(job, "reports")


class RunRecorder:
    """Writes one run's rows; holds the session whose end marks the run as killed."""

    def __init__(self, connection: Mapping[str, Any], environment: str | None) -> None:
        self.run_id = str(uuid.uuid4())
        self.environment = environment or "default"
        self.conn: psycopg.Connection | None = None
        try:
            self.conn = psycopg.connect(
                **{**connection, "application_name": SESSION_PREFIX + self.run_id}, autocommit=True
            )
            self.conn.execute(CREATE)
        except psycopg.Error as error:
            self._give_up(error)

    def _give_up(self, error: Exception) -> None:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        print(f"[sync] warning: this run is not recorded in {TABLE} ({scrub(first)})", flush=True)
        if self.conn is not None:
            self.conn.close()
        self.conn = None

    def _execute(self, sql: str, params: tuple[Any, ...]) -> None:
        if self.conn is None:
            return
        try:
            self.conn.execute(sql, params)
        except psycopg.Error as error:
            self._give_up(error)

    def start(self, job: str) -> None:
        """The job has started: its row, ``running``."""
        self._execute(START, (self.run_id, job, source_of(job), self.environment, os.getpid()))

    def end(
        self,
        job: str,
        outcome: str,
        exit_code: int | None,
        records: Mapping[str, int] | None = None,
        history: Iterable[Pending] = (),
        error: str | None = None,
    ) -> None:
        """The job has ended: ``outcome`` (``succeeded``, ``failed``, ``stopped``) and what it did."""
        assert outcome in OUTCOMES
        message = scrub(error) if error else None
        fix = {"failed": row_for(message), "stopped": STOPPED}.get(outcome)
        pending = [{k: v for k, v in asdict(row).items() if v not in ("", None)} for row in history]
        what_to_do = fix.describe() if fix else None
        params = (outcome, exit_code, Jsonb(dict(records or {})), Jsonb(pending), message, what_to_do, self.run_id, job)
        self._execute(END, params)

    def close(self) -> None:
        """End the run's session (after every row has its end)."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def read_runs(conn: psycopg.Connection, environment: str, per_source: int = 100) -> list[dict[str, Any]]:
    """The latest rows of each source of ``environment`` and its last success, newest first, a dead run's
    ``running`` read as ``killed``."""
    exists = conn.execute("select to_regclass(%s) is not null", (TABLE,)).fetchone()
    if not (exists and exists[0]):
        return []
    with conn.cursor(row_factory=dict_row) as cursor:
        return cursor.execute(
            READ, {"prefix": SESSION_PREFIX, "environment": environment, "per_source": per_source}
        ).fetchall()
