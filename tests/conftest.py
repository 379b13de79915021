"""End-to-end fixtures: the sandbox as a subprocess, a fresh database on the local PostgreSQL, meltano runs."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from _helpers import project

from bloom_suite.processes import Sandbox, meltano_env, running_sandbox

MELTANO = Path(sys.executable).parent / "meltano"  # the one installed beside this Python
PG_HOST = os.environ.get("BLOOM_TEST_PG_HOST", "127.0.0.1")
PG_PORT = os.environ.get("BLOOM_TEST_PG_PORT", "5432")
SEED = 7
ORDERS = 1500
# The store's clock is today, as for a real shop: the taps derive their first live window
# from the local clock, and a store whose clock lags days behind it is not a real case.
NOW = datetime.now(UTC).date().isoformat()
SHARED_STORE_LAG_DAYS = 2


@dataclass
class Pipeline:
    """One warehouse database plus the sandbox, and how to run meltano against them."""

    sandbox: Sandbox
    database: str
    workdir: Path

    @property
    def dsn(self) -> str:
        return f"host={PG_HOST} port={PG_PORT} user=postgres dbname={self.database}"

    def env(self) -> dict[str, str]:
        start = (date.fromisoformat(NOW) - timedelta(days=760)).isoformat()
        return meltano_env(
            # The reports' "today" is the store's (its clock is a UTC midnight, the shared store's days behind).
            BLOOM_REPORTS_AS_OF=self.sandbox.get("/_sandbox/health")["now"],
            BLOOM_PG_PORT=PG_PORT,
            BLOOM_PG_DATABASE=self.database,
            BLOOM_SANDBOX_PORT=self.sandbox.url.rsplit(":", 1)[1],
            BLOOM_START_DATE=start,
            MELTANO_DATABASE_URI=f"sqlite:///{self.workdir / 'meltano.db'}",
        )

    def meltano(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``meltano --environment=demo <args>``; fail the test with its log if it fails."""
        done = subprocess.run(
            [str(MELTANO), "--environment=demo", *args],
            cwd=project(), env=self.env(), capture_output=True, text=True, check=False,
        )  # fmt: skip
        with (self.workdir / "meltano.log").open("a") as log:
            log.write(done.stdout + done.stderr)
        assert done.returncode == 0, f"meltano {' '.join(args)} failed:\n{done.stderr[-6000:]}"
        return done

    def bloom_sync(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``bloom-sync --environment=demo <args>`` (no args: the sources side by side, then dbt)."""
        done = subprocess.run(
            [str(MELTANO.parent / "bloom-sync"), "--environment=demo", *args],
            cwd=project(), env=self.env(), capture_output=True, text=True, check=False,
        )  # fmt: skip
        with (self.workdir / "meltano.log").open("a") as log:
            log.write(done.stdout + done.stderr)
        assert done.returncode == 0, f"bloom-sync failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done

    def query(self, sql: str, params: object = None) -> list[tuple]:
        with psycopg.connect(self.dsn) as conn:
            return conn.execute(sql, params).fetchall()


@contextmanager
def _pipeline(workdir: Path, prefix: str, orders: int, now: str = NOW) -> Iterator[Pipeline]:
    """A sandbox store of ``orders`` whose clock is ``now``, and an empty warehouse database, dropped at the end."""
    database = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = f"host={PG_HOST} port={PG_PORT} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'create database "{database}"')
    try:
        with running_sandbox(seed=SEED, orders=orders, now=now, log_path=workdir / "sandbox.log") as sandbox:
            yield Pipeline(sandbox=sandbox, database=database, workdir=workdir)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{database}" with (force)')


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """The shared store of ORDERS orders and its warehouse database, for the whole session.

    Its clock starts SHARED_STORE_LAG_DAYS before today's UTC midnight: test_pipeline moves it
    on to today's, so it never passes the clock the taps read up to (an ad
    account's current day)."""
    now = (date.fromisoformat(NOW) - timedelta(days=SHARED_STORE_LAG_DAYS)).isoformat()
    with _pipeline(tmp_path_factory.mktemp("pipeline"), "bloom_e2e", ORDERS, now) as shared:
        yield shared


@pytest.fixture
def small_pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    """A store of 300 orders and an empty warehouse database of the test's own."""
    with _pipeline(tmp_path, "bloom_small", 300) as own:
        yield own


@pytest.fixture
def recent_pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    """A store of 800 orders (a score of them, with refunds and payouts, in its last 7 days) and an
    empty warehouse database of the test's own."""
    with _pipeline(tmp_path, "bloom_recent", 800) as own:
        yield own


# The modules that run the longest pipelines go first: `make test` hands whole modules to two
# pytest-xdist workers in this order, and they finish closer together when the long ones start early.
LONGEST_FIRST = (
    "test_faults.py",
    "test_demo.py",
    "test_pipeline.py",
    "test_status.py",
    "test_secrets.py",
    "test_bad_config.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order the modules longest first (stable: a module's own tests keep their order)."""
    rank = {name: position for position, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
