"""Helpers of the bad-settings and secrets tests: the taps' console scripts, configs against the sandbox."""

from __future__ import annotations

import atexit
import base64
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from bloom_suite.processes import isolated_project

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]
TARGET_POSTGRES = ROOT / ".meltano/loaders/target-postgres/venv/bin/target-postgres"
PG_HOST = os.environ.get("BLOOM_TEST_PG_HOST", "127.0.0.1")
PG_PORT = os.environ.get("BLOOM_TEST_PG_PORT", "5432")
TODAY = datetime.now(UTC).date()
START = (TODAY - timedelta(days=45)).isoformat()
# Lines the SDK (and the backoff library under it) add around the one that explains an error.
GENERIC_ERRORS = ("Config validation failed", "An unhandled error occurred while syncing", "Giving up _request(")


@functools.cache
def project() -> Path:
    """This test process's own copy of the Meltano project, where its ``meltano`` and ``bloom-*`` runs start.

    pytest-xdist workers run pipelines side by side, and one project folder holds one run at a time
    (``.meltano/run/<plugin>/``, ``transform/target/``, bloom-sync's lock).
    """
    folder = Path(tempfile.mkdtemp(prefix="bloom-test-project-"))
    atexit.register(shutil.rmtree, folder, True)
    return isolated_project(folder, ROOT)


@dataclass
class Run:
    """One finished process: exit code and what it wrote."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        """The ERROR lines of the log that say something of their own."""
        lines = [line for line in self.stderr.splitlines() if "| ERROR" in line or line.startswith("bloom-sync:")]
        return [line for line in lines if not any(generic in line for generic in GENERIC_ERRORS)]


def run(
    command: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    stdin: Path | None = None,
    timeout: float = 120,
) -> Run:
    """Run a real process and capture everything it writes."""
    with open(stdin or os.devnull) as source:
        done = subprocess.run(command, cwd=cwd, env=env, stdin=source, capture_output=True, text=True,
                              timeout=timeout, check=False)  # fmt: skip
    return Run(done.returncode, done.stdout, done.stderr)


def run_tap(tap: str, config: dict, tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Run:
    """``<tap> --config <file> <args>`` with the console script of this venv."""
    path = tmp_path / f"{tap}-{uuid.uuid4().hex[:8]}.json"
    path.write_text(json.dumps(config))
    return run([str(BIN / tap), "--config", str(path), *args], env={**os.environ, **(env or {})})


def shopify_config(url: str, **changes: object) -> dict:
    """tap-shopify-bloom against the sandbox (its full-scope token)."""
    return _changed({"store": "bloom-demo", "access_token": "shpat_sandbox_token", "start_date": START,
                     "api_url": url}, changes)  # fmt: skip


def ads_config(url: str, **changes: object) -> dict:
    """tap-adplatforms against the sandbox, all three platforms (the sandbox's demo credentials)."""
    return _changed({
        "start_date": START,
        "meta_access_token": "meta_sandbox_token", "meta_account_ids": ["act_1001"],
        "meta_api_url": f"{url}/meta",
        "google_ads_developer_token": "google_sandbox_developer_token",
        "google_ads_client_id": "sandbox-client.apps.googleusercontent.com",
        "google_ads_client_secret": "google_sandbox_client_secret",
        "google_ads_refresh_token": "google_sandbox_refresh_token",
        "google_ads_customer_ids": ["1234567890"], "google_ads_login_customer_id": "9876543210",
        "google_ads_api_url": f"{url}/googleads", "google_ads_token_url": f"{url}/googleads/oauth2/token",
        "tiktok_access_token": "tiktok_sandbox_token", "tiktok_advertiser_ids": ["7000000000001"],
        "tiktok_api_url": f"{url}/tiktok",
    }, changes)  # fmt: skip


def shipping_config(url: str, **changes: object) -> dict:
    """tap-shipping against the sandbox: ShipStation and Shippo (live-mode token: faster pace)."""
    return _changed({"start_date": START, "shipstation_api_key": "ss_sandbox_key",
                     "shipstation_api_secret": "ss_sandbox_secret", "shipstation_api_url": f"{url}/shipstation",
                     "shippo_api_token": "shippo_live_sandbox", "shippo_api_url": f"{url}/shippo"},
                    changes)  # fmt: skip


def _changed(config: dict, changes: dict) -> dict:
    """``config`` with ``changes``; a change to ``None`` removes the setting."""
    merged = {**config, **changes}
    return {name: value for name, value in merged.items() if value is not None}


def secret_forms(secret: str) -> set[str]:
    """The ways a secret could leak: as is, URL-encoded, base64 (alone or in Basic auth)."""
    forms = {secret, urllib.parse.quote(secret, safe=""), base64.b64encode(secret.encode()).decode()}
    return {form for form in forms if len(form) >= 6}


def basic_auth(user: str, password: str) -> str:
    """The ``Authorization: Basic`` credential of ``user:password``."""
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def leaks(text: str, secrets: Iterable[str]) -> list[str]:
    """Which secrets (named by their first 4 characters, never in full) occur in ``text``."""
    found = []
    for secret in secrets:
        if any(form in text for form in secret_forms(secret)):
            found.append(f"{secret[:4]}... ({len(secret)} chars)")
    return found


def admin_dsn(database: str = "postgres") -> str:
    """The test PostgreSQL, as its superuser."""
    return f"host={PG_HOST} port={PG_PORT} user=postgres dbname={database}"


@contextmanager
def fresh_database() -> Iterator[str]:
    """An empty database on the test PostgreSQL, dropped afterwards."""
    name = f"bloom_faults_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(admin_dsn(), autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


def user_schemas(dsn: str) -> list[str]:
    """Schemas a load created (anything but PostgreSQL's own and ``public``)."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "select nspname from pg_namespace where nspname not like 'pg\\_%' "
            "and nspname not in ('information_schema', 'public')"
        ).fetchall()
    return sorted(row[0] for row in rows)


def all_rows_as_text(dsn: str) -> str:
    """Every row of every table a load created, as text."""
    chunks = []
    with psycopg.connect(dsn) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema not in ('pg_catalog', 'information_schema')"
        ).fetchall()
        for schema, table in tables:
            rows = conn.execute(f'select t::text from "{schema}"."{table}" as t').fetchall()
            chunks.extend(row[0] for row in rows)
    return "\n".join(chunks)
