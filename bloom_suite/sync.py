"""``python -m bloom_suite.sync``: ``meltano run``, after checking that the warehouse can be used.

target-postgres (third-party) connects only when the first records arrive, and then reports an
unreachable server or a refused password as a stack trace of a hundred lines, after the taps have
already started reading the APIs. This command first resolves target-postgres's settings exactly
as ``meltano run`` will (same environment, ``.env`` and ``meltano.yml``), connects with them and
checks that the user may create the raw schemas. When the warehouse cannot be used it stops with
one line naming the setting, what was tried and the fix (exit code 2), before any tap starts;
otherwise it becomes ``meltano run`` with the same arguments (holding the project's sync lock,
``bloom_suite/sync_lock.py``: a second ``bloom-sync`` started meanwhile exits at once with code 75)::

    .venv/bin/python -m bloom_suite.sync --environment=prod sync-all
    .venv/bin/python -m bloom_suite.sync --environment=prod tap-adplatforms target-postgres

``bloom-sync status [--environment=...] [--json]`` reports instead what the runs did and how fresh
the data is, with an exit code for cron and CI (``bloom_suite/status.py``).
It also refuses to send the warehouse password in clear text: a server that is not on this
machine needs ``ssl_enable`` with ``ssl_mode`` ``require``, ``verify-ca`` or ``verify-full``.
No setting value other than host, port, user and database is ever printed.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import psycopg

from bloom_suite import status, stopping, sync_lock
from bloom_suite.runner import run_pipeline

MELTANO = Path(sys.executable).parent / "meltano"
LOADER = "target-postgres"
# The variables meltano.yml reads each setting from: what a user edits in .env.
ENV_VARS = {
    "host": "BLOOM_PG_HOST",
    "port": "BLOOM_PG_PORT",
    "user": "BLOOM_PG_USER",
    "password": "BLOOM_PG_PASSWORD",
    "database": "BLOOM_PG_DATABASE",
    "ssl_enable": "BLOOM_PG_SSL_ENABLE",
    "ssl_mode": "BLOOM_PG_SSL_MODE",
}
SECURE_SSL_MODES = ("require", "verify-ca", "verify-full")
CONNECT_TIMEOUT_SECONDS = 10
BUSY_EXIT_CODE = 75  # EX_TEMPFAIL: another sync runs from this project folder; try later


class WarehouseError(Exception):
    """The warehouse cannot be used; the message names the setting and the fix."""


def _setting(name: str) -> str:
    variable = ENV_VARS.get(name)
    return f"{LOADER} setting `{name}`" + (f" ({variable})" if variable else "")


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.startswith("/"):  # a Unix socket directory is local too
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_settings(environment: str | None, loader: str = LOADER) -> dict[str, Any]:
    """The loader's settings as ``meltano run`` resolves them (secrets included; never print them)."""
    port = os.environ.get(ENV_VARS["port"], "5432").strip()
    if not port.isdigit():  # meltano itself would stop on it with a stack trace
        msg = f"{_setting('port')} is '{port}', not a TCP port number: set {ENV_VARS['port']} to e.g. 5432"
        raise WarehouseError(msg)
    command = [str(MELTANO), *([f"--environment={environment}"] if environment else []), "config", "--unsafe",
               "print", loader]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        errors = [line.split("]", 1)[-1].strip() for line in done.stderr.splitlines() if "[error" in line]
        reason = errors[0] if errors else f"exit code {done.returncode}"
        msg = f"meltano could not resolve the {loader} settings: {reason}"
        raise WarehouseError(msg)
    return json.loads(done.stdout)


def connection_arguments(config: Mapping[str, Any]) -> dict[str, Any]:
    """libpq arguments equivalent to target-postgres's settings, after checking them."""
    if config.get("sqlalchemy_url"):
        msg = (
            f"{_setting('sqlalchemy_url')} is set: this check reads host, port, user, password and "
            "database; use those settings instead"
        )
        raise WarehouseError(msg)
    for name in ("host", "user", "database"):
        if not str(config.get(name) or "").strip():
            msg = f"{_setting(name)} is not set: set {ENV_VARS[name]} in .env or the environment"
            raise WarehouseError(msg)
    host = str(config["host"]).strip()
    try:
        port = int(config.get("port") or 5432)
    except (TypeError, ValueError):
        port = 0
    if not 0 < port < 65536:
        msg = f"{_setting('port')} is not a TCP port number: set {ENV_VARS['port']} to e.g. 5432"
        raise WarehouseError(msg)
    ssl = str(config.get("ssl_enable")).lower() in {"true", "1", "yes"}
    ssl_mode = str(config.get("ssl_mode") or "verify-full") if ssl else "prefer"
    if not _is_loopback(host) and (not ssl or ssl_mode not in SECURE_SSL_MODES):
        msg = (
            f"{_setting('ssl_enable')} and `ssl_mode`: PostgreSQL at {host}:{port} is not on this machine, "
            f"and the password would travel without TLS (ssl_enable {str(ssl).lower()}, ssl_mode {ssl_mode}): set "
            f"{ENV_VARS['ssl_enable']}=true and {ENV_VARS['ssl_mode']}=verify-full (or require)"
        )
        raise WarehouseError(msg)
    arguments: dict[str, Any] = {
        "host": host, "port": port, "user": str(config["user"]), "dbname": str(config["database"]),
        "password": config.get("password") or None, "sslmode": ssl_mode,
        "connect_timeout": CONNECT_TIMEOUT_SECONDS, "application_name": "bloom-sync-preflight",
    }  # fmt: skip
    authority = config.get("ssl_certificate_authority")
    if ssl and authority and Path(str(authority)).expanduser().is_file():
        arguments["sslrootcert"] = str(Path(str(authority)).expanduser())
    return arguments


def _explain(error: psycopg.OperationalError, arguments: Mapping[str, Any]) -> str:
    text = str(error)
    where = f"PostgreSQL at {arguments['host']}:{arguments['port']}"
    user, database = arguments["user"], arguments["dbname"]
    if "password authentication failed" in text or "no password supplied" in text:
        return (
            f"{_setting('password')}: {where} refused the password of user '{user}': set "
            f"{ENV_VARS['password']} to that user's password"
        )
    if f'role "{user}" does not exist' in text:
        return f"{_setting('user')}: {where} has no user '{user}': set {ENV_VARS['user']} to an existing user"
    if f'database "{database}" does not exist' in text:
        return (
            f"{_setting('database')}: {where} has no database '{database}': create it (createdb {database}) "
            f"or set {ENV_VARS['database']} to an existing one"
        )
    if "SSL" in text or "certificate" in text:
        return (
            f"{_setting('ssl_mode')}: TLS with {where} failed ({_first_reason(text)}): check "
            f"{ENV_VARS['ssl_mode']} and the server's certificate"
        )
    return (
        f"{_setting('host')} and `port`: cannot reach {where} ({_first_reason(text)}): check "
        f"{ENV_VARS['host']} and {ENV_VARS['port']}, and that the server runs and accepts TCP connections"
    )


def _first_reason(text: str) -> str:
    """libpq's reason, without its ``connection to server at ... failed:`` preamble."""
    line = next((line for line in text.splitlines() if line.strip()), text).strip()
    return line.rsplit("failed: ", 1)[-1].strip() or line


def check_warehouse(config: Mapping[str, Any]) -> str:
    """Connect as target-postgres will; return what was checked, or raise :class:`WarehouseError`."""
    arguments = connection_arguments(config)
    try:
        with psycopg.connect(**arguments) as conn:
            may_create = conn.execute("select has_database_privilege(current_database(), 'CREATE')").fetchone()
    except psycopg.OperationalError as error:
        raise WarehouseError(_explain(error, arguments)) from None
    if not (may_create and may_create[0]):
        msg = (
            f"{_setting('user')}: user '{arguments['user']}' may not create schemas in database "
            f"'{arguments['dbname']}': grant create on database {arguments['dbname']} to {arguments['user']}"
        )
        raise WarehouseError(msg)
    return f"PostgreSQL at {arguments['host']}:{arguments['port']}, database {arguments['dbname']}"


@stopping.stops_cleanly("bloom-sync:")
def main(argv: Sequence[str] | None = None) -> None:
    """Check the warehouse, then sync: the whole pipeline side by side, or ``meltano run`` of what is named."""
    parser = argparse.ArgumentParser(prog="bloom-sync", description=__doc__.splitlines()[0])
    parser.add_argument("--environment", "-e", help="the Meltano environment (default: meltano.yml's)")
    parser.add_argument("--loader", default=LOADER, help=f"the loader to check (default: {LOADER})")
    parser.add_argument(
        "run_args", nargs=argparse.REMAINDER,
        help="what `meltano run` runs (jobs or plugins); none: the three sources side by side, then the reports; "
        "`status`: what the runs did and how fresh the data is (bloom-sync status --help)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.run_args[:1] == ["status"]:
        sys.exit(_status(args.run_args[1:], args.environment, args.loader))
    environment_name = args.environment or "default"
    try:
        # Kept open (and across the exec into meltano) for as long as the sync runs.
        sync_lock.acquire(Path.cwd(), environment_name, inheritable=True)
    except sync_lock.SyncRunningError as running:
        print(
            f"bloom-sync: another sync is running in this project folder ({running}); this one did not start. "
            "Nothing to fix: the next sync picks up what this one would have synced",
            file=sys.stderr, flush=True,
        )  # fmt: skip
        sys.exit(BUSY_EXIT_CODE)
    try:
        settings = resolve_settings(args.environment, args.loader)
        checked = check_warehouse(settings)
    except WarehouseError as error:
        print(f"bloom-sync: {error}", file=sys.stderr, flush=True)
        sys.exit(2)
    print(f"bloom-sync: {checked} answers; starting meltano run", file=sys.stderr, flush=True)
    environment = [f"--environment={args.environment}"] if args.environment else []
    if args.run_args:
        os.execv(MELTANO, [str(MELTANO), *environment, "run", *args.run_args])  # noqa: S606 - replaces this process
    log_path = Path(".bloom") / f"sync-{args.environment or 'default'}.log"
    log_path.parent.mkdir(exist_ok=True)
    record_to = {**connection_arguments(settings), "application_name": "bloom-sync"}
    report = run_pipeline(Path.cwd(), args.environment, dict(os.environ), log_path, record_to=record_to)
    synced = ", ".join(f"{tap} {count:,}" for tap, count in sorted(report.records_by_tap().items()))
    if not report.ok:
        stopping.raise_if_stopped(report.stopped)  # stopped by a signal: exit 128 + n (stopping.stops_cleanly)
        print(f"bloom-sync: {', '.join(report.failed_jobs())} failed; full log: {log_path}", file=sys.stderr)
        sys.exit(1)
    print(f"bloom-sync: done; records synced: {synced}", file=sys.stderr)


def _status(argv: Sequence[str], environment: str | None, loader: str) -> int:
    """``bloom-sync status``: print the status of every source; return its exit code (status.py)."""
    parser = argparse.ArgumentParser(
        prog="bloom-sync status",
        description="Is every source synced and fresh, and if not, what to do? Exit code 0: all good; "
        "1: something needs attention; 2: the warehouse cannot be read.",
    )
    parser.add_argument("--environment", "-e", default=environment, help="the Meltano environment")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--no-freshness", action="store_true", help="skip dbt's source freshness (faster)")
    args = parser.parse_args(argv)
    try:
        arguments = connection_arguments(resolve_settings(args.environment, loader))
        found = status.gather(
            {**arguments, "application_name": "bloom-sync-status"}, args.environment, str(MELTANO), Path.cwd(),
            os.environ, freshness=not args.no_freshness,
        )  # fmt: skip
    except (WarehouseError, psycopg.Error) as error:
        if isinstance(error, psycopg.OperationalError):
            message = _explain(error, arguments)
        elif isinstance(error, psycopg.Error):
            message = f"cannot read bloom_sync.runs: {_first_reason(str(error))}"
        else:
            message = str(error)
        print(f"bloom-sync status: {message}", file=sys.stderr, flush=True)
        return status.UNREADABLE
    print(json.dumps(found, indent=2, default=str) if args.json else status.format_status(found), flush=True)
    return int(found["exit_code"])


if __name__ == "__main__":
    main()
