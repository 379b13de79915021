"""Nothing lost, nothing doubled: faults of the APIs and SIGKILLs of `meltano run` change no final row.

One store (seed, orders and clock fixed) lives three `meltano --environment=demo run`s, as a new
installation does with `make demo`: the quick first sync (every tap's ``backfill`` false: live
windows only, then the reports untested), the backfill (the history, then the reports rebuilt
from scratch), and an incremental run after the store moved 3 days on. The
undisturbed life is run first; a copy of its warehouse and Meltano system database is kept at
every phase boundary. Each scenario starts from the copy before its phase, on a fresh sandbox
process of the same store, and disturbs that phase:

* a fault injected in the sandbox (THROTTLED storms, 5xx, slow answers within and past the
  taps' ``request_timeout``, resets, truncated bodies, failed bulk operations with and without
  partial data, expired result URLs): the run must succeed, and the faults must have been served;
* the `meltano run` process group killed with SIGKILL at a random fraction of the phase's
  undisturbed duration, placed by the log line the undisturbed run had reached then (so it
  lands while the run is alive: each kill records whether it did, and a soak fails with fewer
  than 20 live kills), then run again to completion (``--force``: see README's
  troubleshooting; without it Meltano refuses for 5 minutes, which is checked too).

Then every table of raw_shopify, raw_ads, raw_shipping and reports must be identical to the
undisturbed run's at the end of that phase: row counts and md5 of the business columns (not
the ``_``-prefixed load and build times), and no two rows share a primary key.

``make test`` runs a light matrix (a few faults at once, one kill in the first sync and one in
the backfill); ``make soak`` (``BLOOM_SOAK=1``) every fault kind on its own and at least
20 kill points, and prints the table docs/reliability.md shows.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from _faults import (
    PHASES,
    KillPoint,
    Phase,
    Warehouse,
    clear_faults,
    clone,
    differences,
    drop,
    faults,
    reordered,
    rows_compared,
    run_phase,
    snapshot,
    warehouse,
)

from bloom_suite.processes import Sandbox, running_sandbox
from bloom_suite.sync import BUSY_EXIT_CODE

BLOOM_SYNC = Path(sys.executable).parent / "bloom-sync"

SOAK = os.environ.get("BLOOM_SOAK") == "1"
SEED = 23
ORDERS = int(os.environ.get("BLOOM_SOAK_ORDERS", "400"))
MONTHS = 4  # of history synced: the store has 24, start_date is 4 months back
NOW = datetime.now(UTC).date().isoformat()
KILL_SEED = int(os.environ.get("BLOOM_SOAK_KILL_SEED", str(int(time.time())) if SOAK else "8"))
KILLS_PER_PHASE = 7 if SOAK else 0  # the light run picks its two kill points below
# The light run lives the first two phases (no incremental run): its kills are in those.
LIVED = PHASES if SOAK else PHASES[:2]

# Each fault kind, as the sandbox injects it (sandbox/README.md), with enough hits to matter
# and few enough that the taps' retries (8 tries, exponential backoff) get through.
SLOW_PAST_TIMEOUT = "slow answers past request_timeout (3 s; every API)"
# Settings of a fault kind's run (the taps' request_timeout, low enough for the sandbox's slow answers to pass it).
SHORT_TIMEOUTS = {
    "TAP_SHOPIFY_BLOOM_REQUEST_TIMEOUT": "3",
    "TAP_ADPLATFORMS_REQUEST_TIMEOUT": "3",
    "TAP_SHIPPING_REQUEST_TIMEOUT": "3",
}
FAULT_KINDS: dict[str, list[dict]] = {
    "THROTTLED x5 (one query's retries)": [{"type": "throttled", "count": 5}],
    "THROTTLED storm (40 answers)": [{"type": "throttled", "count": 40}],
    "Shopify 500 x3": [{"type": "http_error", "status": 500, "path": "/admin", "count": 3}],
    "Meta 503 x2": [{"type": "http_error", "status": 503, "path": "/meta", "count": 2}],
    "5xx on the other APIs": [
        {"type": "http_error", "status": 500, "path": "/googleads"},
        {"type": "http_error", "status": 504, "path": "/tiktok"},
        {"type": "http_error", "status": 502, "path": "/shipstation"},
        {"type": "http_error", "status": 503, "path": "/shippo"},
    ],
    "slow answers within the timeout (20 s, every API)": [
        {"type": "slow", "seconds": 20, "path": p} for p in ("/admin/api", "/meta", "/shipstation")
    ],
    # tap-shopify-bloom has no request_timeout setting on main yet: Shopify is left out of this kind.
    SLOW_PAST_TIMEOUT: [
        {"type": "slow", "seconds": 8, "path": p}
        for p in ("/admin/api", "/meta", "/googleads/v", "/tiktok", "/shipstation", "/shippo")
    ],
    "connection resets x3 (Shopify)": [{"type": "reset", "path": "/admin/api", "count": 3}],
    "resets, truncated bodies (ads, shipping)": [
        {"type": "reset", "path": "/googleads"},
        {"type": "reset", "path": "/shippo"},
        {"type": "truncate", "path": "/tiktok"},
        {"type": "truncate", "path": "/shipstation"},
    ],
    "truncated bodies x3 (Shopify)": [{"type": "truncate", "path": "/admin/api", "count": 3}],
    "truncated bulk result file": [{"type": "truncate", "path": "/admin/bulk-results", "count": 2}],
    "bulk FAILED, no partial data": [{"type": "bulk_failed", "count": 2}],
    "bulk FAILED with partialDataUrl": [{"type": "bulk_failed", "partial_data": True, "count": 2}],
    "expired result URLs x2": [{"type": "expired_url", "count": 2}],
}
LIGHT_FAULTS = {
    "several at once (throttled, 500, reset, truncated file, bulk FAILED partial, expired URL, "
    "Meta 503, ShipStation reset, Shippo slow past request_timeout)": [
        {"type": "throttled", "count": 4},
        {"type": "http_error", "status": 500, "path": "/admin/api"},
        {"type": "reset", "path": "/admin/api"},
        {"type": "truncate", "path": "/admin/bulk-results"},
        {"type": "bulk_failed", "partial_data": True},
        {"type": "expired_url"},
        {"type": "http_error", "status": 503, "path": "/meta"},
        {"type": "reset", "path": "/shipstation"},
        {"type": "slow", "seconds": 8, "path": "/shippo"},
    ]
}
FAULT_SETTINGS = {SLOW_PAST_TIMEOUT: SHORT_TIMEOUTS, next(iter(LIGHT_FAULTS)): SHORT_TIMEOUTS}


@dataclass
class Life:
    """The undisturbed life of the store: copies at each phase boundary, snapshots and durations."""

    before: dict[str, Warehouse]  # phase name -> the warehouse as it was before that phase (a template)
    after: dict[str, dict]  # phase name -> snapshot at its end
    seconds: dict[str, float]
    line_times: dict[str, list[float]]  # phase name -> when each log line of the undisturbed run came
    workdir: Path
    empty: Warehouse
    bulk_created: dict[str, int]  # phase name -> bulk operations the undisturbed phase created


RESULTS: list[tuple[str, str, str, int]] = []  # scenario, phase, result, rows compared
KILLS: list[bool] = []  # of each kill scenario run: whether its SIGKILL hit a live run


@contextmanager
def store(workdir: Path, advanced_days: int = 0) -> Iterator[Sandbox]:
    """A fresh sandbox process of the store, moved ``advanced_days`` on."""
    with running_sandbox(seed=SEED, orders=ORDERS, now=NOW, log_path=workdir / "sandbox.log") as sandbox:
        if advanced_days:
            sandbox.post("/_sandbox/advance", {"days": advanced_days})
        yield sandbox


def days_before(phase: Phase) -> int:
    """How far the store has moved when ``phase`` starts (its own advance included)."""
    days = 0
    for each in PHASES:
        days += each.advance_days
        if each is phase:
            return days
    raise ValueError(phase)


@pytest.fixture(scope="module")
def life(tmp_path_factory) -> Iterator[Life]:
    workdir = tmp_path_factory.mktemp("faults")
    print(f"\nstore: seed {SEED}, {ORDERS} orders, now {NOW}, {MONTHS} months synced; kill seed {KILL_SEED}")
    before, after, seconds, line_times, bulk_created = {}, {}, {}, {}, {}
    templates: list[Warehouse] = []
    try:
        yield from _live(workdir, before, after, seconds, line_times, bulk_created, templates)
    finally:
        for template in templates:
            drop(template)
        print_table()


def _live(workdir, before, after, seconds, line_times, bulk_created, templates) -> Iterator[Life]:
    """The undisturbed life (setup of ``life``); every copy it makes is put in ``templates`` to be dropped."""
    with store(workdir) as sandbox, warehouse(sandbox, workdir, NOW, MONTHS) as wh:
        empty = clone(wh, workdir)
        templates.append(empty)
        for phase in LIVED:
            before[phase.name] = clone(wh, workdir)
            templates.append(before[phase.name])
            if phase.advance_days:
                sandbox.post("/_sandbox/advance", {"days": phase.advance_days})
            created = sandbox.get("/_sandbox/stats")["shopify"]["bulk_created"]
            outcome = run_phase(wh, phase)
            assert outcome.returncode == 0, f"undisturbed {phase.name} failed:\n{outcome.log[-5000:]}"
            bulk_created[phase.name] = sandbox.get("/_sandbox/stats")["shopify"]["bulk_created"] - created
            seconds[phase.name] = outcome.seconds
            line_times[phase.name] = outcome.line_times
            after[phase.name] = snapshot(wh)
            record("undisturbed run", phase.name, f"ok in {outcome.seconds:.0f} s", rows_compared(after[phase.name]))
        assert after["backfill"]["reports.profit_daily"].rows > 100
        assert after["backfill"]["raw_shopify.orders"].rows > after["first sync"]["raw_shopify.orders"].rows > 0
        if "incremental" in after:
            assert after["incremental"]["raw_shopify.orders"].rows > after["backfill"]["raw_shopify.orders"].rows
    yield Life(before, after, seconds, line_times, workdir, empty, bulk_created)


SOAK_TABLE = Path(__file__).resolve().parents[1] / ".bloom" / "soak-last.md"


def table() -> str:
    lines = ["| scenario | phase | result | rows compared |", "|---|---|---|---|"]
    lines += [f"| {scenario} | {phase} | {result} | {rows:,} |" for scenario, phase, result, rows in RESULTS]
    return "\n".join(lines)


def record(scenario: str, phase: str, result: str, rows: int) -> None:
    """One row of the results; a soak rewrites .bloom/soak-last.md after each (docs/reliability.md shows the last)."""
    RESULTS.append((scenario, phase, result, rows))
    print(f"\n  {scenario} | {phase} | {result} | {rows:,}", flush=True)
    if SOAK:
        SOAK_TABLE.parent.mkdir(exist_ok=True)
        SOAK_TABLE.write_text(f"{header()}\n\n{table()}\n")


def header() -> str:
    return (
        f"store seed {SEED}, {ORDERS} orders, kill seed {KILL_SEED}; "
        f"SIGKILLs that hit a live run: {sum(KILLS)} of {len(KILLS)}"
    )


def print_table() -> None:
    print(f"\n{header()}\n{table()}", flush=True)


def compare(life: Life, wh: Warehouse, phase: Phase, scenario: str, result: str) -> None:
    got = snapshot(wh)
    problems = differences(life.after[phase.name], got)
    moved = reordered(life.after[phase.name], got)
    if moved:
        result += f" (nested arrays in another order: {', '.join(moved)})"
    record(scenario, phase.name, "FAILED" if problems else result, rows_compared(got))
    assert not problems, f"{scenario}: the warehouse differs from the undisturbed run:\n" + "\n".join(problems)


# ---- SIGKILL and re-run ---------------------------------------------------------------------


def kill_points() -> list[tuple[str, float]]:
    """(phase, fraction of its undisturbed duration) of each kill, drawn from ``KILL_SEED``."""
    if not SOAK:
        return [("first sync", 0.5), ("backfill", 0.45)]
    draw = random.Random(KILL_SEED)
    return [(phase.name, round(draw.uniform(0.05, 0.95), 3)) for phase in PHASES for _ in range(KILLS_PER_PHASE)]


@pytest.mark.parametrize(("phase_name", "fraction"), kill_points())
def test_sigkill_then_rerun_changes_no_final_row(life, phase_name, fraction):
    phase = next(each for each in PHASES if each.name == phase_name)
    point = KillPoint.at(fraction, life.line_times[phase.name], life.seconds[phase.name])
    with store(life.workdir, days_before(phase)) as sandbox:
        wh = clone(life.before[phase.name], life.workdir)
        wh.sandbox = sandbox
        try:
            killed = run_phase(wh, phase, kill=point)
            KILLS.append(killed.hit)
            at = f"SIGKILL at {fraction:.0%} (log line {point.line} of {point.of_lines} + {point.delay:.1f} s"
            if not killed.hit:  # the run ended by itself before the point (it should not: see KillPoint)
                assert killed.returncode == 0, killed.log[-5000:]
                scenario = f"{at}): missed, the run had ended"
            else:
                scenario = f"{at}; at {killed.killed_at:.1f} s): hit the live run {last_step(killed.log)}"
                refused = run_phase(wh, phase)
                if "already running" in refused.log:
                    # Meltano keeps the killed run marked running for 5 minutes: it says so and names --force.
                    assert refused.returncode != 0
                    assert "--force" in refused.log
                    wh.extra_env["MELTANO_RUN_FORCE"] = "true"
                    rerun = wh.sync(phase.jobs)
                    scenario += "; refused, --force"
                else:
                    rerun = refused
                assert rerun.returncode == 0, f"{scenario}: the re-run failed:\n{rerun.log[-5000:]}"
            compare(life, wh, phase, scenario, "ok")
        finally:
            drop(wh)


PLUGINS = {"tap-shopify-bloom", "tap-adplatforms", "tap-shipping", "target-postgres", "dbt-postgres"}


def last_step(log: str) -> str:
    """What the killed run was doing: the plugin of its last log line, and the last window it finished."""
    plugin = "before any plugin"
    window = ""
    for line in log.splitlines():
        parts = line.split()
        if len(parts) > 3 and parts[1] == "[info" and parts[3] in PLUGINS:  # fmt: skip
            plugin = parts[3]
        if "window [" in line and "done" in line:
            window = line.split("window ", 1)[1].split(")", 1)[0] + ")"
    return f"in {plugin}" + (f" after window {window}" if window and plugin != "dbt-postgres" else "")


# ---- faults ---------------------------------------------------------------------------------

BACKFILL = next(phase for phase in PHASES if phase.name == "backfill")


@pytest.mark.parametrize("kind", list(FAULT_KINDS if SOAK else LIGHT_FAULTS))
def test_faults_change_no_final_row(life, kind):
    """The backfill (bulk operations, paging, ads, shipping, dbt) with the faults injected."""
    specs = (FAULT_KINDS if SOAK else LIGHT_FAULTS)[kind]
    phase = BACKFILL
    with store(life.workdir, days_before(phase)) as sandbox:
        wh = clone(life.before[phase.name], life.workdir)
        wh.sandbox = sandbox
        try:
            stats_before = sandbox.get("/_sandbox/stats")
            faults(sandbox, specs)
            outcome = run_phase(wh, phase, env=FAULT_SETTINGS.get(kind))
            stats_after = sandbox.get("/_sandbox/stats")
            left = sandbox.get("/_sandbox/faults")["faults"]
            clear_faults(sandbox)
            if outcome.returncode != 0:
                record(f"fault: {kind}", phase.name, f"FAILED: exit code {outcome.returncode}", 0)
            assert outcome.returncode == 0, f"{kind}: the run failed:\n{outcome.log[-5000:]}"
            served = served_faults(stats_before, stats_after)
            if any(spec["type"] == "expired_url" for spec in specs):
                # The sandbox counts no expired download; the tap runs such an operation again.
                rerun_ops = stats_after["shopify"]["bulk_created"] - stats_before["shopify"]["bulk_created"]
                served += max(0, rerun_ops - life.bulk_created[phase.name])
            assert served >= len(specs), f"{kind}: only {served} faults were served: {stats_after}"
            assert left == [], f"{kind}: faults never reached: {left}"
            compare(life, wh, phase, f"fault: {kind}", f"ok ({served} faults served)")
        finally:
            drop(wh)


def served_faults(before: dict, after: dict) -> int:
    """Faults the sandbox injected between two stats: generic ones, THROTTLED answers, failed bulk operations."""
    shopify = ("throttled", "bulk_failed")
    generic = after["faults_injected"] - before["faults_injected"]
    specific = sum(after["shopify"][name] - before["shopify"][name] for name in shopify)
    return generic + specific


# ---- two syncs of one job at once -----------------------------------------------------------


def test_two_syncs_of_one_job_at_once_one_refuses(life):
    """Two ``bloom-sync`` of the same jobs started at once: one runs, the other refuses; data and state intact."""
    phase = PHASES[0]
    with store(life.workdir, days_before(phase)) as sandbox:
        wh = clone(life.empty, life.workdir)
        wh.sandbox = sandbox
        wh.extra_env = dict(phase.env)
        try:
            first = wh.start(*phase.jobs, program=BLOOM_SYNC)
            second = wh.start(*phase.jobs, program=BLOOM_SYNC)  # at the same moment
            codes = (first.wait(timeout=600), second.wait(timeout=600))
            log = (wh.workdir / "meltano.log").read_text()
            assert sorted(codes) == [0, BUSY_EXIT_CODE], (codes, log[-5000:])
            assert "bloom-sync: another sync is running in this project folder (pid " in log
            compare(life, wh, phase, "two syncs of one job started at once: one refuses", "ok")
            if not SOAK:
                return
            # State is whole: the next phase runs on from it as on the undisturbed copy.
            nxt = PHASES[1]
            assert run_phase(wh, nxt).returncode == 0
            compare(life, wh, nxt, "  ... then the backfill on from its state", "ok")
        finally:
            drop(wh)


def test_kill_scenarios_are_spread_over_the_three_phases():
    points = kill_points()
    assert {phase for phase, _ in points} == {phase.name for phase in LIVED}
    assert len(points) >= (20 if SOAK else 2)


def test_the_sigkills_hit_live_runs():
    """A kill after the run ended proves nothing: a soak needs at least 20 live kills, ``make test`` all of its."""
    points = kill_points()
    assert len(KILLS) == len(points), "the kill scenarios above did not all run: run the whole module"
    assert sum(KILLS) >= (20 if SOAK else len(points)), f"only {sum(KILLS)} of {len(KILLS)} SIGKILLs hit a live run"
