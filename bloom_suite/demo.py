"""``make demo``: the whole pipeline on built-in defaults, then a profit summary.

Starts the embedded Postgres (data kept in ``.bloom/demo``), starts the sandbox with a
seeded store, runs the three taps into target-postgres side by side (``meltano run`` of
the jobs sync-shopify, sync-ads and sync-shipping), then ``dbt build`` (build-reports),
prints the last 30 days (to the shop's today) from ``reports.profit_daily`` and stops what it
started. A first run goes twice: the three taps with ``backfill`` off (the last 7 days of every
source, and Shopify's whole catalog with its unit costs) and the reports without tests, so the
last 7 days show within a minute, then the history of every source and a full build. The
warehouse, Meltano's state and the sandbox's clock persist in ``.bloom/demo``, so a second
run is incremental: the sandbox's store lives in real time (it moves forward by the days
since the first run) and only what changed is synced.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bloom_suite import stopping
from bloom_suite.embedded_pg import EmbeddedPostgres, EmbeddedPostgresError
from bloom_suite.processes import meltano_env, running_sandbox
from bloom_suite.runner import RunReport, run_pipeline
from bloom_suite.summary import format_summary, read_summary

log = logging.getLogger("bloom-demo")

DATABASE = "bloom"
RECENT_DAYS = 7  # the taps' initial_window_days
# The first pass of a first run: every tap reads only its recent window and leaves the history
# pending in its state, for the next pass (backfill on, the default) to read.
RECENT_ONLY = {
    "TAP_SHOPIFY_BLOOM_BACKFILL": "false",
    "TAP_ADPLATFORMS_BACKFILL": "false",
    "TAP_SHIPPING_BACKFILL": "false",
}
FIRST_REPORTS = "dbt-postgres:build-untested"  # after the recent-only pass: the reports, no tests yet
# After a recent-only first pass, history arrives older than the incremental models' cut-offs:
# the first full build (after the history) starts them from scratch.
HISTORY_REPORTS = "dbt-postgres:build-full-refresh"


def _load_clock(path: Path, orders: int, seed: int) -> dict[str, object]:
    """The sandbox's clock across demo runs: the day it was generated and the days since."""
    today = datetime.now(UTC).date()
    if path.exists():
        clock = json.loads(path.read_text())
        if clock["orders"] == orders and clock["seed"] == seed:
            clock["runs"] = int(clock["runs"]) + 1
            clock["days"] = (today - date.fromisoformat(clock["now"])).days
            return clock
        log.warning("store size or seed changed: the demo starts over in a new warehouse")
    return {"now": today.isoformat(), "orders": orders, "seed": seed, "runs": 0, "days": 0}


def _failed(report: RunReport, log_path: Path) -> int:
    stopping.raise_if_stopped(report.stopped)  # stopped by a signal: stop the rest too (main)
    log.error("%s failed; nothing already loaded is lost. Full log: %s", ", ".join(report.failed_jobs()), log_path)
    return 1


def run_demo(root: Path, workdir: Path, orders: int, seed: int, pg_port: int) -> int:
    """Run the demo once; return the process exit code."""
    workdir.mkdir(parents=True, exist_ok=True)
    clock_path = workdir / "sandbox-clock.json"
    clock = _load_clock(clock_path, orders, seed)
    if clock["runs"] == 0 and (workdir / "pgdata").exists():
        shutil.rmtree(workdir / "pgdata")
        (workdir / "meltano.db").unlink(missing_ok=True)

    postgres = EmbeddedPostgres(data_dir=workdir / "pgdata", port=pg_port)
    try:
        try:
            postgres.start()
        except EmbeddedPostgresError as error:
            log.error("%s", error)
            return 1
        postgres.create_database(DATABASE)
        print(f"[demo] embedded PostgreSQL on 127.0.0.1:{pg_port}, database {DATABASE}", flush=True)
        print(f"[demo] starting the sandbox store ({orders:,} orders, seed {seed})", flush=True)
        with running_sandbox(
            seed=seed, orders=orders, now=str(clock["now"]), log_path=workdir / "sandbox.log"
        ) as sandbox:
            if clock["days"]:
                # The store lives in real time: it moves forward by the days since the first run.
                sandbox.post("/_sandbox/advance", {"days": int(clock["days"])})
                print(f"[demo] the store moved {clock['days']} day(s) forward since the first run", flush=True)
            if clock["runs"]:
                print("[demo] incremental sync: only what changed since the last run is fetched", flush=True)
            start_date = (datetime.fromisoformat(str(clock["now"])) - timedelta(days=750)).date().isoformat()
            env = meltano_env(
                BLOOM_PG_PORT=str(pg_port),
                BLOOM_PG_DATABASE=DATABASE,
                BLOOM_SANDBOX_PORT=sandbox.url.rsplit(":", 1)[1],
                BLOOM_START_DATE=start_date,
                MELTANO_DATABASE_URI=f"sqlite:///{workdir / 'meltano.db'}",
            )
            log_path = workdir / "meltano.log"
            started = time.monotonic()
            if clock["runs"] == 0:
                # First run: the last days of every source and their reports first, then the history.
                print(f"[demo] first the last {RECENT_DAYS} days, so that the reports appear fast", flush=True)
                quick = run_pipeline(
                    root,
                    "demo",
                    {**env, **RECENT_ONLY},
                    log_path,
                    FIRST_REPORTS,
                    warehouse=postgres.dsn(DATABASE),
                )
                if not quick.ok:
                    return _failed(quick, log_path)
                print(f"[demo] first reports ready after {time.monotonic() - started:.0f} s", flush=True)
                print(format_summary(read_summary(postgres.dsn(DATABASE), RECENT_DAYS), RECENT_DAYS), flush=True)
                print("[demo] now the history, in monthly windows, newest first", flush=True)
            reports = HISTORY_REPORTS if clock["runs"] == 0 else "build-reports"
            report = run_pipeline(root, "demo", env, log_path, reports, warehouse=postgres.dsn(DATABASE))
            if not report.ok:
                return _failed(report, log_path)
        synced = ", ".join(f"{tap} {count:,}" for tap, count in sorted(report.records_by_tap().items()))
        timings = ", ".join(f"{jobs} {seconds:.0f} s" for jobs, seconds in report.seconds.items())
        print(f"[demo] records synced this run: {synced}", flush=True)
        print(f"[demo] time: {timings}; {time.monotonic() - started:.0f} s in all", flush=True)
        clock_path.write_text(json.dumps(clock))
        print(format_summary(read_summary(postgres.dsn(DATABASE))), flush=True)
        return 0
    finally:
        with stopping.deferred():  # a stop signal waits for the server to stop (main)
            postgres.stop()


@stopping.stops_cleanly("[demo]", "the next `make demo` resumes from the saved state (a first run starts over)")
def main() -> None:
    """Entry point of ``bloom-demo`` (``make demo``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=int(os.environ.get("ORDERS", "10000")))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--pg-port", type=int, default=int(os.environ.get("BLOOM_PG_PORT", "55432")))
    parser.add_argument("--workdir", type=Path, default=Path(".bloom/demo"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="[demo] %(message)s")
    root = Path.cwd()
    sys.exit(run_demo(root, args.workdir.resolve(), args.orders, args.seed, args.pg_port))


if __name__ == "__main__":
    main()
