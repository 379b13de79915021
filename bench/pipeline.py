"""The whole pipeline as ``make demo`` runs it, timed: first sync, then one sandbox day of changes.

Usage: .venv/bin/python bench/pipeline.py --orders 10000 [--runs 3] [--pg embedded|local]
       [--one-pass | --first-pass-only] [--no-daily] [--shipping-limits documented|lifted]
       [--shopify-limits documented|lifted] [--reports-after-loads]

Each run: a new embedded PostgreSQL (as the demo) or a new database on the local server, a
sandbox store of N orders whose clock is yesterday, then ``bloom_suite.runner.run_pipeline``
in the demo environment (the three sources' jobs side by side, then ``build-reports``) with
the demo's variables; then ``POST /_sandbox/advance {"days": 1}`` and the same again
(incremental). The first sync goes as the demo's first run (``bloom_suite/demo.py``): the
three taps with ``backfill`` false and ``dbt-postgres:build-untested`` (the first 7-day
reports), then the history and ``dbt-postgres:build-full-refresh``. ``--one-pass`` runs it
as one ``run_pipeline`` with ``build-reports`` instead, and times the first 7 days from the
Shopify tap's log (its last line before its first history window). ``--first-pass-only``
stops after the first 7-day pass (for stores whose history takes hours here): the day of
changes is then synced with the taps' backfill still off, the history left pending, so the
daily run's figures depend only on the changes. ``--no-daily`` stops after the first sync (a 1M
store's history takes hours here; its daily run is measured by ``--first-pass-only``). Prints a
Markdown table. ``--shipping-limits lifted`` shortens the shipping APIs' rate windows 100 times
(as ``taps.py --limits lifted``) and leaves Shopify's and the ad platforms' as documented: the
whole pipeline of a 1M store without the hours of Shippo's list pace, which is then a known sum.
``--shopify-limits lifted`` puts the sandbox's store on Shopify's enterprise plan with instant bulk
operations (as ``taps.py --limits lifted``); both lifted leave only the ad platforms' report runs
and the pipeline's own work: what the machine, not the APIs, takes. The reports start ahead of
the loads' end, as the demo starts them (``bloom_suite/loads_lock.py``); ``--reports-after-loads``
starts them after the loads instead (the runner without the warehouse's lock), for comparison.
"""

from __future__ import annotations

import argparse
import os
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from benchlib import (
    MB,
    ROOT,
    SHOPIFY_LIFTED,
    ProcessWatch,
    Stopwatch,
    Warehouse,
    demo_env,
    fresh_warehouse,
    lift_shipping_limits,
    load_average,
    machine,
    median,
    now_stamp,
    server_version,
    spread,
    store_clock,
    workdir,
)

from bloom_suite.demo import RECENT_ONLY
from bloom_suite.processes import isolated_project, running_sandbox
from bloom_suite.progress import PlainLines, RunProgress, Silent
from bloom_suite.runner import REPORTS_JOB, SOURCE_JOBS, RunReport, run_pipeline

SOURCES = "+".join(SOURCE_JOBS)
SPAN_KINDS = ("tap-shopify-bloom", "tap-adplatforms", "tap-shipping", "target-postgres", "dbt")
STAMP = re.compile(r"^(?P<at>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) \[\s*\w+\s*\] (?P<plugin>\S+)\s+(?P<msg>.*)$")
# The Shopify tap's first history window: every stream's live window (the last 7 days on a
# first sync) is done before it (streams/shop.py runs them ahead of all history).
HISTORY_WINDOW = re.compile(r"fetching window \[\S+, \d{4}-")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Phase:
    """One pipeline pass: seconds of the sources and of dbt, records per tap, memory peaks."""

    total: float = 0.0
    sources: float = 0.0
    dbt: float = 0.0
    records: Counter[str] = field(default_factory=Counter)
    peaks: dict[str, int] = field(default_factory=dict)
    spans: Counter[str] = field(default_factory=Counter)
    cpu: Counter[str] = field(default_factory=Counter)
    load: str = ""

    def add(self, report: RunReport, reports_job: str, watch: ProcessWatch) -> None:
        self.sources += report.seconds.get(SOURCES, 0.0)
        self.dbt += report.seconds.get(reports_job, 0.0)
        self.records.update(report.records_by_tap())
        for kind, peak in watch.peaks.items():
            self.peaks[kind] = max(self.peaks.get(kind, 0), peak)
        for kind in watch.spans:
            self.spans[kind] += watch.seconds(kind) or 0.0
        self.cpu.update(watch.cpu_seconds())


@dataclass
class Run:
    setup: float = 0.0
    recent: Phase | None = None  # the demo's first pass: every source's last 7 days, models without tests
    first: Phase = field(default_factory=Phase)  # the history (or everything with --one-pass)
    incremental: Phase = field(default_factory=Phase)
    full_history: float = 0.0  # from the first pass's start to the full history in the reports
    live_done: float | None = None  # --one-pass: the Shopify tap's 7-day live windows are all fetched
    advance: float = 0.0  # the sandbox's day of changes (and its shipping emulators' new label index)


def _pass(
    root: Path, env: dict[str, str], log_path: Path, phase: Phase, warehouse: Warehouse, ahead: bool,
    reports: str = REPORTS_JOB, *, progress: str = "plain",
) -> None:  # fmt: skip
    lock = warehouse.dsn if ahead else None  # the reports start ahead of the loads' end
    shown = RunProgress(Silent()) if progress == "off" else RunProgress(PlainLines())
    with ProcessWatch(postgres=warehouse.pid) as watch:
        report = run_pipeline(root, "demo", env, log_path, reports, warehouse=lock, progress=shown)
    if not report.ok:
        raise SystemExit(f"{', '.join(report.failed_jobs())} failed: see {log_path} (rerun with --keep)")
    phase.add(report, reports, watch)


def _live_done(log_path: Path, since_epoch: float) -> float | None:
    """Seconds from ``since_epoch`` to the Shopify tap's last line before its first history window.

    A live window ends ``now)`` in the tap's log; a history window ends at a date.
    """
    last = None
    for line in log_path.read_text(errors="replace").splitlines():
        match = STAMP.match(ANSI.sub("", line))
        if not match or not match["plugin"].startswith("tap-shopify-bloom"):
            continue
        at = datetime.fromisoformat(match["at"].replace("Z", "+00:00")).timestamp()
        if at < since_epoch:
            continue
        if HISTORY_WINDOW.search(match["msg"]):
            return None if last is None else last - since_epoch
        last = at
    return None


def run_once(args: argparse.Namespace) -> Run:
    run = Run()
    now = store_clock()
    with workdir(args.keep) as folder:
        clock = Stopwatch()
        with (
            fresh_warehouse(args.pg, folder) as warehouse,
            running_sandbox(
                seed=args.seed,
                orders=args.orders,
                now=now,
                log_path=folder / "sandbox.log",
                **(SHOPIFY_LIFTED if args.shopify_limits == "lifted" else {}),
            ) as sandbox,  # fmt: skip
        ):
            run.setup = clock()
            env = demo_env(warehouse, sandbox, folder, now)
            root = ROOT if args.shared_project else isolated_project(folder)
            log_path = folder / "meltano.log"
            ahead = not args.reports_after_loads
            print(f"[bench] {args.orders:,} orders, {warehouse.server} PostgreSQL {server_version(warehouse.dsn)}")

            clock = Stopwatch()
            if not args.one_pass:
                # As the demo's first run: the last 7 days of every source and their reports first.
                recent = run.recent = Phase(load=load_average())
                quick_env = {**env, **RECENT_ONLY}
                untested = "dbt-postgres:build-untested"
                _pass(root, quick_env, log_path, recent, warehouse, ahead, untested, progress=args.progress)
                recent.total = clock()
            if args.first_pass_only:
                # The history stays pending: the daily run below keeps the taps' backfill off too.
                env = {**env, **RECENT_ONLY}
            else:
                first = run.first
                first.load = load_average()
                history_clock = Stopwatch()
                history_reports = "dbt-postgres:build-full-refresh" if run.recent else REPORTS_JOB
                _pass(root, env, log_path, first, warehouse, ahead, history_reports, progress=args.progress)
                first.total = history_clock()
                run.full_history = clock()
                if args.one_pass:
                    run.live_done = _live_done(log_path, clock.started_wall)

            if args.no_daily:
                return run
            advance_clock = Stopwatch()
            sandbox.post("/_sandbox/advance", {"days": args.days})
            run.advance = advance_clock()
            incremental = run.incremental
            incremental.load = load_average()
            clock = Stopwatch()
            _pass(root, env, log_path, incremental, warehouse, ahead, progress=args.progress)
            incremental.total = clock()
    return run


def _records(phases: list[Phase]) -> str:
    taps = sorted({tap for phase in phases for tap in phase.records})
    return ", ".join(f"{tap} {int(median([p.records[tap] for p in phases])):,}" for tap in taps)


def _spans(phases: list[Phase]) -> str:
    kinds = [kind for kind in SPAN_KINDS if any(kind in phase.spans for phase in phases)]
    return ", ".join(f"{kind} {median([p.spans[kind] for p in phases]):.1f} s" for kind in kinds)


def _cpu(phases: list[Phase]) -> str:
    kinds = sorted({kind for phase in phases for kind in phase.cpu})
    total = median([sum(phase.cpu.values()) for phase in phases])
    return f"{total:.1f} s: " + ", ".join(f"{kind} {median([p.cpu[kind] for p in phases]):.1f} s" for kind in kinds)


def _peaks(phases: list[Phase]) -> str:
    kinds = sorted({kind for phase in phases for kind in phase.peaks})
    return ", ".join(f"{kind} {max(p.peaks.get(kind, 0) for p in phases) / MB:.0f} MB" for kind in kinds)


def _phase_rows(title: str, phases: list[Phase]) -> list[tuple[str, str]]:
    return [
        (f"{title}: total (meltano start + sources + dbt)", spread([p.total for p in phases])),
        ("  sources phase (3 jobs side by side)", spread([p.sources for p in phases])),
        ("  dbt phase (from the loads' end)", spread([p.dbt for p in phases])),
        ("  records per tap", _records(phases)),
        ("  process wall time by kind (first start to last exit)", _spans(phases)),
        ("  CPU time (user + system) by kind, summed over its processes", _cpu(phases)),
        ("  peak RSS per process kind (max over runs)", _peaks(phases)),
        ("  load average (1/5/15 min) at start", " | ".join(p.load for p in phases)),
    ]


def table(args: argparse.Namespace, runs: list[Run]) -> str:
    rows = [("setup (not timed below): PostgreSQL started + sandbox store generated", spread([r.setup for r in runs]))]
    if not args.first_pass_only:
        full = spread([r.full_history for r in runs])
        rows.append(("full history in the reports, from the first meltano start", full))
    live = [r.live_done for r in runs if r.live_done is not None]
    if live:
        rows.append(("Shopify tap's 7-day live windows fetched, from the first meltano start", spread(live)))
    recents = [r.recent for r in runs if r.recent is not None]
    if recents:
        title = "first 7-day reports: the three taps' backfill off + build-untested"
        rows += _phase_rows(title, recents)
        if not args.first_pass_only:
            rows += _phase_rows("then the history + build-full-refresh", [r.first for r in runs])
    else:
        rows += _phase_rows("first sync in one pass + build-reports", [r.first for r in runs])
    if not args.no_daily:
        title = f"incremental after {args.days} sandbox day(s) + build-reports"
        if args.first_pass_only:
            title += ", the taps' backfill still off (history pending)"
        rows.append(
            (
                f"the sandbox's {args.days} day(s) of changes (not timed in the run below)",
                spread([r.advance for r in runs]),
            )
        )
        rows += _phase_rows(title, [r.incremental for r in runs])
    lifted = "".join(
        f", {api} limits lifted"
        for api in ("Shopify", "shipping")
        if getattr(args, f"{api.lower()}_limits") == "lifted"
    )
    lifted += ", reports after the loads" if args.reports_after_loads else ""
    lifted += ", no progress lines" if args.progress == "off" else ""
    head = f"| {args.orders:,} orders, {args.pg} PostgreSQL{lifted}, {now_stamp()} | seconds / value |\n|---|---|\n"
    return head + "\n".join(f"| {name} | {value} |" for name, value in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--days", type=int, default=1, help="sandbox days of changes before the incremental run")
    parser.add_argument("--pg", choices=["embedded", "local"], default="embedded")
    parser.add_argument("--one-pass", action="store_true", help="first sync in one pass, not recent days first")
    parser.add_argument(
        "--first-pass-only",
        action="store_true",
        help="stop after the first 7-day pass: no history; the daily run after it keeps the taps' backfill off",
    )
    parser.add_argument(
        "--no-daily", action="store_true", help="stop after the first sync: no sandbox day, no incremental run"
    )
    parser.add_argument(
        "--shared-project", action="store_true", help="run meltano in the work tree itself, not in a private copy"
    )
    parser.add_argument(
        "--shipping-limits",
        choices=["documented", "lifted"],
        default="documented",
        help="lifted: the shipping APIs' rate windows 100 times shorter and tap-shipping's Shippo pace to match "
        "(the rest of the pipeline at its documented limits, without hours of Shippo's list pace)",
    )
    parser.add_argument(
        "--shopify-limits",
        choices=["documented", "lifted"],
        default="documented",
        help="lifted: the sandbox's Shopify store on the enterprise plan (2,000 points/s) with instant bulk operations "
        "(with --shipping-limits lifted: what the pipeline itself takes, no API's pace in the way)",
    )
    parser.add_argument(
        "--reports-after-loads",
        action="store_true",
        help="start the reports after the loads, not ahead of their end as the demo does (for comparison)",
    )
    parser.add_argument(
        "--progress",
        choices=["plain", "off"],
        default="plain",
        help="the runner's progress lines (plain, as without a terminal) or none (off: to measure what they cost)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (logs, databases)")
    args = parser.parse_args()
    if args.shipping_limits == "lifted":
        # tap-shipping reads its settings from meltano's environment, which is this one plus the demo's.
        for name, value in lift_shipping_limits().items():
            os.environ[f"TAP_SHIPPING_{name.upper()}"] = str(value)
    if args.one_pass and args.first_pass_only:
        parser.error("--one-pass and --first-pass-only exclude each other")
    if args.first_pass_only and args.no_daily:
        parser.error("--first-pass-only measures the daily run: drop --no-daily")
    print(f"[bench] {machine()}; load {load_average()}")
    runs = []
    for index in range(args.runs):
        started = time.monotonic()
        runs.append(run_once(args))
        print(f"[bench] run {index + 1}/{args.runs} done in {time.monotonic() - started:.0f} s", flush=True)
        print(table(args, runs), flush=True)  # after each run: what is measured is not lost


if __name__ == "__main__":
    main()
