"""The warehouse lock that holds back reports started before the loads end.

``run_pipeline`` can start the reports' ``meltano run`` while the slowest tap still loads,
so that Meltano's and dbt's starts and dbt's parse overlap the loads. This session holds a
PostgreSQL advisory lock in the warehouse for as long as loads run, and stays connected
until the reports end; dbt's first ``on-run-start`` hook (``transform/macros/wait_for_loads.sql``)
waits for the lock and stops the run if this session is gone by then.

Session-level advisory locks need a direct connection: behind a pooler in transaction mode
another client can share the session. So only callers that know their warehouse is
reached directly (the demo's embedded PostgreSQL, the benchmarks) pass one.
"""

from __future__ import annotations

import psycopg

# The advisory lock's key (the bytes of "bloom"); dbt reads it from BLOOM_LOADS_LOCK.
KEY = 0x626C6F6F6D


class LoadsLock:
    """A warehouse session holding the loads' advisory lock until :meth:`release`."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    @classmethod
    def take(cls, conninfo: str) -> LoadsLock | None:
        """The lock, held; ``None`` if another pipeline holds it in this database (then nothing waits)."""
        conn = psycopg.connect(conninfo, autocommit=True, application_name="bloom-sync-loads")
        row = conn.execute("select pg_try_advisory_lock(%s)", (KEY,)).fetchone()
        if not (row and row[0]):
            conn.close()
            return None
        return cls(conn)

    def dbt_env(self) -> dict[str, str]:
        """What tells dbt's hook which lock to wait for and whose session must still be there."""
        return {"BLOOM_LOADS_LOCK": str(KEY), "BLOOM_LOADS_HOLDER": str(self.conn.info.backend_pid)}

    def release(self) -> None:
        """The loads are over: let the reports run (the session stays, as the hook checks)."""
        self.conn.execute("select pg_advisory_unlock(%s)", (KEY,))

    def close(self) -> None:
        self.conn.close()
