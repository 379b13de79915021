"""`dbt build` on a synced store of N orders and on a warehouse of M shops of N orders: full and daily.

Usage: .venv/bin/python bench/dbt_scale.py [--orders 100000] [--shops 10] [--pg embedded|local] [--keep]

1. A sandbox store of N orders (seed 42, clock yesterday) is synced into a fresh warehouse as
   ``pipeline.py --one-pass`` does (the demo's environment, a private project copy, the three
   sources' jobs side by side) and its reports built with ``dbt-postgres:build-full-refresh``.
2. ``CREATE DATABASE ... TEMPLATE`` clones that warehouse; in the clone every raw table's rows
   are copied M-1 times under new shop and account keys (``multishop.py``), and the copy of the
   project maps every account to its shop in the ``source_accounts`` seed. Full build there.
3. ``POST /_sandbox/advance {"days": 1}``; then, on each warehouse with its own Meltano state
   (the clone's is a copy of the first's, so both fetch the same day of changes, which all
   belong to the original shop), the demo's later run: the incremental sync and
   ``build-reports`` (``dbt build``, incremental models incremental).
4. ``build-full-refresh`` again on each; the report tables after the incremental run must equal
   those after the full refresh (per table and shop: rows and a checksum of every column but
   the ``built_at`` bookkeeping), and after step 2 every copy's reports must equal the original's.

Times are wall seconds of ``meltano run`` (dbt's own elapsed time from ``run_results.json``
beside them); peak RSS of dbt from ``/proc`` (benchlib's watcher). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import multishop
import psycopg
from benchlib import (
    MB,
    ProcessWatch,
    Stopwatch,
    Warehouse,
    base_tables,
    demo_env,
    fresh_warehouse,
    load_average,
    machine,
    now_stamp,
    server_version,
    store_clock,
    table_columns,
    workdir,
)
from psycopg import sql

from bloom_suite.processes import Sandbox, isolated_project, running_sandbox
from bloom_suite.runner import MELTANO, REPORTS_JOB, SOURCE_JOBS, run_pipeline

SHOP = "bloom-demo"  # the demo environment's store key
FULL = "dbt-postgres:build-full-refresh"
# Bookkeeping columns that differ between runs by design.
VOLATILE = ("built_at",)


@dataclass
class Build:
    """One dbt run through meltano."""

    seconds: float
    dbt_elapsed: float
    nodes: int
    slowest: list[tuple[str, float]]
    peak_rss: int
    load: str

    def line(self) -> str:
        peak = self.peak_rss / MB
        return f"{self.seconds:.1f} s (dbt {self.dbt_elapsed:.1f} s, {self.nodes} nodes), dbt peak {peak:.0f} MB"


@dataclass
class Size:
    """One warehouse: the synced store, or its M-shop copy."""

    label: str
    warehouse: Warehouse
    project: Path
    env: dict[str, str]
    orders: int = 0
    full: list[Build] = field(default_factory=list)
    sync_seconds: float = 0.0
    sync_records: dict[str, int] = field(default_factory=dict)
    incremental: Build | None = None
    sums: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)


def dbt_results(project: Path) -> tuple[float, int, list[tuple[str, float]]]:
    """dbt's own elapsed seconds, node count and five slowest nodes of its last run in ``project``."""
    results = json.loads((project / "transform" / "target" / "run_results.json").read_text())
    nodes = sorted(results["results"], key=lambda node: -node["execution_time"])
    slowest = [(node["unique_id"].split(".")[-1], node["execution_time"]) for node in nodes[:5]]
    return results["elapsed_time"], len(results["results"]), slowest


def build(size: Size, log_path: Path, job: str = FULL) -> Build:
    """``meltano run <job>`` in the size's project; stop the benchmark if it fails."""
    load = load_average()
    clock = Stopwatch()
    with ProcessWatch() as watch, log_path.open("a") as log:
        done = subprocess.run(
            [MELTANO, "--environment=demo", "run", job],
            cwd=size.project, env=size.env, stdout=log, stderr=subprocess.STDOUT, check=False,
        )  # fmt: skip
    if done.returncode:
        raise SystemExit(f"{job} failed on the {size.label} warehouse: see {log_path} (rerun with --keep)")
    elapsed, nodes, slowest = dbt_results(size.project)
    return Build(clock(), elapsed, nodes, slowest, watch.peaks.get("dbt", 0), load)


def sync(size: Size, log_path: Path, reports: str) -> Build:
    """The three sources' jobs side by side, then ``reports``: the demo's pipeline."""
    load = load_average()
    with ProcessWatch() as watch:
        report = run_pipeline(size.project, "demo", size.env, log_path, reports)
    if not report.ok:
        raise SystemExit(f"{', '.join(report.failed_jobs())} failed on {size.label}: see {log_path} (--keep)")
    size.sync_seconds = report.seconds["+".join(SOURCE_JOBS)]
    size.sync_records = report.records_by_tap()
    elapsed, nodes, slowest = dbt_results(size.project)
    return Build(report.seconds[reports], elapsed, nodes, slowest, watch.peaks.get("dbt", 0), load)


def checksums(dsn: str, schema: str = "reports") -> dict[str, dict[str, tuple[int, int]]]:
    """table -> shop -> (rows, sum of the rows' md5s): every column but shop and bookkeeping."""
    sums: dict[str, dict[str, tuple[int, int]]] = {}
    with psycopg.connect(dsn) as conn:
        for table in base_tables(conn, schema):
            columns = [
                column
                for column in table_columns(conn, schema, table)
                if column != "shop" and not any(word in column for word in VOLATILE)
            ]
            query = sql.SQL(
                "select shop, count(*), sum(('x' || left(md5(row({})::text), 15))::bit(60)::bigint)"
                " from {} group by shop"
            ).format(sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(schema, table))
            sums[table] = {str(shop): (int(rows), int(total or 0)) for shop, rows, total in conn.execute(query)}
    return sums


def differences(left: dict, right: dict) -> list[str]:
    """Tables and shops whose rows or checksums differ between two ``checksums`` results."""
    found = []
    for table in sorted(set(left) | set(right)):
        a, b = left.get(table, {}), right.get(table, {})
        found += [f"{table} ({key})" for key in sorted(set(a) | set(b)) if a.get(key) != b.get(key)]
    return found


def copies_differ(copied: dict, original: dict, shops: int) -> list[str]:
    """Reports in which a copy shop's rows differ from the original shop's in the synced warehouse."""
    found = []
    for table, by_shop in original.items():
        expected = by_shop.get(SHOP)
        for index in [1, *range(2, shops + 1)]:
            shop = SHOP if index == 1 else multishop.copy_shop(SHOP, index)
            if copied.get(table, {}).get(shop) != expected:
                found.append(f"{table} ({shop})")
    return found


def count_orders(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        return int(conn.execute("select count(*) from raw_shopify.orders").fetchone()[0])  # type: ignore[index]


def make_copy(base: Size, folder: Path, sandbox: Sandbox, now: str, shops: int) -> tuple[Size, dict, float]:
    """Clone the synced warehouse and its Meltano state, copy its raw rows ``shops - 1`` times."""
    clock = Stopwatch()
    name = f"{base.warehouse.database}_x{shops}"
    admin = f"host={base.warehouse.host} port={base.warehouse.port} user=postgres dbname=postgres"
    multishop.clone_database(admin, base.warehouse.database, name)
    warehouse = Warehouse(base.warehouse.host, base.warehouse.port, name, base.warehouse.server)
    home = folder / "copy"
    home.mkdir()
    shutil.copy2(folder / "base" / "meltano.db", home / "meltano.db")
    project = isolated_project(home)
    size = Size(f"{shops} x {base.orders:,}", warehouse, project, demo_env(warehouse, sandbox, home, now))
    synced_accounts = multishop.accounts(warehouse.dsn)  # the original shop's, before the copies
    copied = multishop.copy_raw_rows(warehouse.dsn, SHOP, shops)
    seeds = multishop.write_seeds(project / "transform" / "seeds", SHOP, shops, synced_accounts)
    size.orders = count_orders(warehouse.dsn)
    return size, {"tables": copied, "seeds": seeds}, clock()


def drop_clone(size: Size) -> None:
    """Drop the clone on the local server (an embedded server goes with its folder)."""
    if size.warehouse.server == "local":
        admin = f"host={size.warehouse.host} port={size.warehouse.port} user=postgres dbname=postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(size.warehouse.database))
            )


def run(args: argparse.Namespace) -> None:
    now = store_clock()
    with workdir(args.keep) as folder:
        log_path = folder / "meltano.log"
        clock = Stopwatch()
        with (
            fresh_warehouse(args.pg, folder) as warehouse,
            running_sandbox(seed=args.seed, orders=args.orders, now=now, log_path=folder / "sandbox.log") as sandbox,
        ):
            setup = clock()
            (folder / "base").mkdir()
            base = Size(f"{args.orders:,}", warehouse, isolated_project(folder / "base"), {})
            base.env = demo_env(warehouse, sandbox, folder / "base", now)
            print(f"[bench] {args.orders:,} orders, {warehouse.server} PostgreSQL {server_version(warehouse.dsn)}")
            first_sync_load = load_average()
            base.full.append(sync(base, log_path, FULL))
            first_sync = (base.sync_seconds, dict(base.sync_records), first_sync_load)
            base.orders = count_orders(warehouse.dsn)
            original = checksums(warehouse.dsn)
            print(f"[bench] synced {base.orders:,} orders; full build {base.full[0].line()}", flush=True)

            copy, made, copy_seconds = make_copy(base, folder, sandbox, now, args.shops)
            try:
                print(f"[bench] {copy.orders:,} orders in {args.shops} shops after {copy_seconds:.0f} s", flush=True)
                copy.full.append(build(copy, log_path))
                copies = copies_differ(checksums(copy.warehouse.dsn), original, args.shops)
                print(f"[bench] full build of {copy.label}: {copy.full[0].line()}", flush=True)

                sandbox.post("/_sandbox/advance", {"days": 1})
                for size in (base, copy):
                    size.incremental = sync(size, log_path, REPORTS_JOB)
                    size.sums["incremental"] = checksums(size.warehouse.dsn)
                    print(f"[bench] incremental on {size.label}: {size.incremental.line()}", flush=True)
                for size in (base, copy):
                    size.full.append(build(size, log_path))
                    size.sums["full"] = checksums(size.warehouse.dsn)
                    print(f"[bench] full refresh on {size.label}: {size.full[-1].line()}", flush=True)
            finally:
                drop_clone(copy)
    print(table(args, setup, first_sync, base, copy, made, copy_seconds, copies))


def _records(records: dict[str, int]) -> str:
    return ", ".join(f"{tap} {count:,}" for tap, count in sorted(records.items()))


def _slowest(builds: list[Build]) -> str:
    return "; ".join(", ".join(f"{name} {seconds:.1f}" for name, seconds in b.slowest) for b in builds)


def _pair(builds: list[Build]) -> str:
    return " and ".join(f"{b.seconds:.1f}" for b in builds)


def table(
    args: argparse.Namespace,
    setup: float,
    first_sync: tuple[float, dict[str, int], str],
    base: Size,
    copy: Size,
    made: dict,
    copy_seconds: float,
    copies: list[str],
) -> str:
    rows: list[tuple[str, str]] = [
        ("setup: PostgreSQL started + sandbox store generated, s", f"{setup:.1f}"),
        (
            f"first sync of the {args.orders:,}-order store (one pass, history included): sources phase, s",
            f"{first_sync[0]:.1f} ({_records(first_sync[1])}; load {first_sync[2]})",
        ),
        (
            f"{copy.label} warehouse made (clone + {args.shops - 1} copies of every raw row + analyze), s",
            f"{copy_seconds:.1f}",
        ),
        (
            "raw rows per table, synced -> copied",
            "; ".join(
                f"{name} {before:,} -> {after:,} (key {', '.join(keys)})"
                for name, (keys, before, after) in made["tables"].items()
            ),
        ),
        ("seed rows added for the copies", ", ".join(f"{k} {v}" for k, v in made["seeds"].items()) or "none"),
    ]
    for size in (base, copy):
        full, incremental = size.full, size.incremental
        assert incremental is not None
        rows += [
            (f"**{size.label} orders**: `dbt build --full-refresh` (build-full-refresh), s", _pair(full)),
            (
                "  dbt's own elapsed, nodes, dbt peak RSS",
                "; ".join(f"{b.dbt_elapsed:.1f} s, {b.nodes} nodes, {b.peak_rss / MB:.0f} MB" for b in full),
            ),
            ("  slowest nodes (s)", _slowest(full)),
            ("  load average at start (1/5/15 min)", " | ".join(b.load for b in full)),
            (
                "  one sandbox day later: incremental sync, sources phase, s",
                f"{size.sync_seconds:.1f} ({_records(size.sync_records)})",
            ),
            ("  then `dbt build` (build-reports, incremental), s", f"{incremental.seconds:.1f}"),
            (
                "  dbt's own elapsed, nodes, dbt peak RSS",
                (f"{incremental.dbt_elapsed:.1f} s, {incremental.nodes} nodes, {incremental.peak_rss / MB:.0f} MB"),
            ),
            ("  slowest nodes (s)", _slowest([incremental])),
            (
                "  incremental / full refresh (dbt's own elapsed)",
                f"{incremental.dbt_elapsed / full[-1].dbt_elapsed:.2f}",
            ),
            ("  load average at start (1/5/15 min)", incremental.load),
            (
                "  reports after the incremental run = after a full refresh",
                _verdict(differences(size.sums["incremental"], size.sums["full"]), size.sums["full"]),
            ),
        ]
    rows.append(
        (
            f"every shop's reports in {copy.label} = the synced store's (after the first full builds)",
            _verdict(copies, {}),
        )
    )
    head = f"| dbt at scale, {args.pg} PostgreSQL, {now_stamp()} | value |\n|---|---|\n"
    return head + "\n".join(f"| {name} | {value} |" for name, value in rows)


def _verdict(found: list[str], sums: dict) -> str:
    if found:
        return f"**NO**: {', '.join(found[:12])}{' ...' if len(found) > 12 else ''}"
    tables = len(sums)
    return "yes" + (f" ({tables} report tables, every shop: rows and checksums)" if tables else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--shops", type=int, default=10, help="M: shops in the copied warehouse (M x N orders)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--pg", choices=["embedded", "local"], default="embedded")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (logs, databases)")
    args = parser.parse_args()
    if args.shops < 2:
        parser.error("--shops must be at least 2")
    print(f"[bench] {machine()}; load {load_average()}")
    run(args)


if __name__ == "__main__":
    main()
