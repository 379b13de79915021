"""target-postgres load throughput next to PostgreSQL's own COPY of the same rows on the same server.

Usage: .venv/bin/python bench/load.py --orders 10000 [--runs 3] [--pg embedded|local] [--tap tap-shopify-bloom]

A sandbox store of N orders; the tap runs once with the demo environment's config (as
``meltano config print`` resolves it) and its Singer output is captured to a file. Then,
``--runs`` times on an emptied schema: that file is replayed into target-postgres (the
project's config: use_copy on, validate_records off, record metadata on) and timed from
process start to exit; and the rows it loaded are copied by ``COPY ... FROM STDIN`` (psycopg,
binary format, over the same TCP connection kind) into empty tables with the same columns,
primary keys and indexes (``LIKE ... INCLUDING ALL``). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import time
from collections import Counter
from pathlib import Path

import psycopg
from benchlib import (
    MB,
    ProcessWatch,
    base_tables,
    demo_env,
    executable,
    fresh_warehouse,
    load_average,
    machine,
    median,
    now_stamp,
    resolved_config,
    server_version,
    spread,
    store_clock,
    workdir,
)

from bloom_suite.processes import isolated_project, running_sandbox

NAMESPACES = {"tap-shopify-bloom": "raw_shopify", "tap-adplatforms": "raw_ads", "tap-shipping": "raw_shipping"}


def capture(tap: str, config: Path, out: Path, log: Path) -> float:
    """Run the tap to ``out``; return its wall seconds."""
    partial = out.with_suffix(".partial")
    started = time.monotonic()
    with partial.open("wb") as sink, log.open("wb") as errors:
        subprocess.run([executable("extractors", tap), "--config", str(config)], stdout=sink, stderr=errors, check=True)
    seconds = time.monotonic() - started
    partial.rename(out)  # only a whole capture is replayed by a later --messages
    return seconds


def count_records(messages: Path) -> Counter[str]:
    """RECORD messages per stream."""
    records: Counter[str] = Counter()
    with messages.open() as lines:
        for line in lines:
            if line.startswith('{"type":"RECORD"') or line.startswith('{"type": "RECORD"'):
                records[json.loads(line)["stream"]] += 1
    return records


def without_records(messages: Path, out: Path) -> None:
    """The same stream of messages less its RECORD lines (the target's fixed cost: start, tables)."""
    with messages.open() as lines, out.open("w") as sink:
        sink.writelines(
            line for line in lines if '"type":"RECORD"' not in line[:20] and '"type": "RECORD"' not in line[:20]
        )


def replay(config: Path, messages: Path, log: Path) -> tuple[float, int, float]:
    """Feed ``messages`` to target-postgres; return its wall seconds, peak RSS and CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with ProcessWatch() as watch:
        started = time.monotonic()
        with messages.open("rb") as source, log.open("ab") as errors:
            subprocess.run(
                [executable("loaders", "target-postgres"), "--config", str(config)],
                stdin=source, stdout=subprocess.DEVNULL, stderr=errors, check=True,
            )  # fmt: skip
        seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return seconds, watch.peaks.get("target-postgres", 0), cpu


def drop_schema(dsn: str, schema: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"drop schema if exists {schema} cascade")


def tables(dsn: str, schema: str) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        names = base_tables(conn, schema)
        return {name: conn.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0] for name in names}  # type: ignore[index]


def raw_copy(dsn: str, schema: str, names: list[str]) -> tuple[float, int]:
    """COPY every table's rows into an empty twin table; return the seconds the COPYs took and the rows."""
    data: dict[str, bytes] = {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        for name in names:
            buffer = bytearray()
            with conn.cursor().copy(f'copy "{schema}"."{name}" to stdout (format binary)') as copy:
                for chunk in copy:
                    buffer += chunk
            data[name] = bytes(buffer)
        conn.execute("drop schema if exists bench_copy cascade")
        conn.execute("create schema bench_copy")
        for name in names:
            conn.execute(f'create table bench_copy."{name}" (like "{schema}"."{name}" including all)')
    rows = 0
    seconds = 0.0
    with psycopg.connect(dsn) as conn:
        for name, payload in data.items():
            started = time.monotonic()
            with conn.transaction(), conn.cursor() as cursor:
                with cursor.copy(f'copy bench_copy."{name}" from stdin (format binary)') as copy:
                    copy.write(payload)
                rows += cursor.rowcount
            seconds += time.monotonic() - started
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("drop schema bench_copy cascade")
    return seconds, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--tap", choices=sorted(NAMESPACES), default="tap-shopify-bloom")
    parser.add_argument("--pg", choices=["embedded", "local"], default="embedded")
    parser.add_argument(
        "--messages", type=Path, help="the tap's captured output: replayed if it exists, else captured there"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (messages, logs)")
    args = parser.parse_args()
    print(f"[bench] {machine()}; load {load_average()}", flush=True)
    schema = NAMESPACES[args.tap]
    now = store_clock()
    with workdir(args.keep) as folder, fresh_warehouse(args.pg, folder) as warehouse:
        project = isolated_project(folder)
        messages = args.messages or folder / "messages.jsonl"
        tap_seconds = None
        if messages.exists():
            print(f"[bench] replaying {messages} (captured before)", flush=True)
        else:
            with running_sandbox(
                seed=args.seed, orders=args.orders, now=now, log_path=folder / "sandbox.log"
            ) as sandbox:
                tap_config = folder / "tap.json"
                env = demo_env(warehouse, sandbox, folder, now)
                tap_config.write_text(json.dumps(resolved_config(project, args.tap, env)))
                print(f"[bench] {args.tap} -> {messages}", flush=True)
                tap_seconds = capture(args.tap, tap_config, messages, folder / "tap.log")
        records = count_records(messages)
        total = sum(records.values())
        size = messages.stat().st_size
        target_config = folder / "target.json"
        target_settings = resolved_config(project, "target-postgres", demo_env(warehouse, None, folder, now))
        target_config.write_text(json.dumps({**target_settings, "default_target_schema": schema}))

        empty = folder / "no-records.jsonl"
        without_records(messages, empty)
        loads, copies, peaks, loads_at, fixed, cpus = [], [], [], [], [], []
        rows = copied = 0
        for index in range(args.runs):
            drop_schema(warehouse.dsn, schema)
            loads_at.append(load_average())
            fixed.append(replay(target_config, empty, folder / "target.log")[0])
            drop_schema(warehouse.dsn, schema)
            seconds, peak, cpu = replay(target_config, messages, folder / "target.log")
            cpus.append(cpu)
            loaded = tables(warehouse.dsn, schema)
            rows = sum(loaded.values())
            copy_seconds, copied = raw_copy(warehouse.dsn, schema, sorted(loaded))
            loads.append(seconds)
            copies.append(copy_seconds)
            peaks.append(peak)
            print(
                f"[bench] run {index + 1}/{args.runs}: target {seconds:.1f} s, COPY {copy_seconds:.2f} s",
                flush=True,
            )
        version = server_version(warehouse.dsn)

    target_rate = [total / s for s in loads]
    copy_rate = [copied / s for s in copies]
    ratio = median(target_rate) / median(copy_rate)
    marginal = median([total / max(s - f, 1e-9) for s, f in zip(loads, fixed, strict=True)]) / median(copy_rate)
    figures = [
        (
            f"{args.tap} output (Singer messages): records, size, tap wall time",
            f"{total:,} records, {size / MB:.0f} MB, " + (f"{tap_seconds:.1f} s" if tap_seconds else "captured before"),
        ),
        ("records per stream", ", ".join(f"{name} {count:,}" for name, count in sorted(records.items()))),
        ("rows in the tables after the load (upserts merge duplicates)", f"{rows:,}"),
        ("target-postgres replay of the file: wall s", spread(loads)),
        ("target-postgres: records/s", spread(target_rate, "{:,.0f}")),
        ("  of which fixed: the same messages less the RECORDs (start, schemas, state)", spread(fixed)),
        (
            "target-postgres: records/s past the fixed cost",
            spread([total / max(s - f, 1e-9) for s, f in zip(loads, fixed, strict=True)], "{:,.0f}"),
        ),
        ("target-postgres: its own CPU time (user + sys), s", spread(cpus)),
        ("target-postgres: peak RSS", f"{max(peaks) / MB:.0f} MB"),
        ("COPY FROM STDIN (binary) of the same rows, same server: s", spread(copies, "{:.2f}")),
        ("COPY: rows/s", spread(copy_rate, "{:,.0f}")),
        ("target / COPY (medians)", f"{ratio:.3f} (1/{1 / ratio:.0f})"),
        ("target past its fixed cost / COPY", f"{marginal:.3f} (1/{1 / marginal:.0f})"),
        ("load average (1/5/15 min) before each replay", " | ".join(loads_at)),
    ]
    print(f"| {args.orders:,} orders, {args.pg} PostgreSQL {version}, {now_stamp()} | value |\n|---|---|")
    for name, value in figures:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
