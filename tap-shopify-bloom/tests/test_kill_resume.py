"""A tap killed mid-backfill resumes from its last STATE at the first unfinished month."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import datetime

from bloom_sandbox.testing import running_sandbox

from tests.helpers import parse_messages
from tests.sandbox_client import control, shopify_stats, tap_config, truth_counts

BULK_STREAMS = ("orders", "transactions", "products", "customers")


def run_tap(tmp_path, config: dict, state: dict | None, kill_when=None) -> tuple[list[str], bool]:
    """Run the tap's CLI; with ``kill_when``, SIGKILL it once a STATE line satisfies it.

    Its log goes to ``tmp_path / "tap.log"``.
    """
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "state.json").write_text(json.dumps(state or {}))
    with (
        (tmp_path / "tap.log").open("w") as log,
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tap_shopify_bloom.tap",
                "--config",
                str(tmp_path / "config.json"),
                "--state",
                str(tmp_path / "state.json"),
            ],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        ) as process,
    ):
        lines: list[str] = []
        killed = False
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            message = json.loads(line)
            if kill_when and message["type"] == "STATE" and kill_when(message["value"]):
                process.send_signal(signal.SIGKILL)
                killed = True
                break
        process.wait(timeout=60)
    return lines, killed


def done_months(state: dict) -> list[str]:
    return state.get("bookmarks", {}).get("orders", {}).get("windows", {}).get("backfill", {}).get("done", [])


def test_kill_mid_backfill_against_the_sandbox(tmp_path):
    with running_sandbox(seed=11, orders=300, months=6, plan="plus") as sandbox:
        control(sandbox, "faults", [{"type": "slow", "seconds": 0.02, "path": "/admin", "always": True}])
        config = tap_config(sandbox, bulk_threshold=0)
        lines, killed = run_tap(tmp_path, config, None, kill_when=lambda s: len(done_months(s)) == 3)
        assert killed
        first = parse_messages(lines)
        finished = done_months(first.state)
        control(sandbox, "faults", method="DELETE")
        lines, killed = run_tap(tmp_path, config, first.state)
        second = parse_messages(lines)
        truth = truth_counts(sandbox)
    assert not killed
    assert "backfill" not in second.state["bookmarks"]["orders"]["windows"]
    assert first.records.get("transactions")  # recent transactions came before the orders' history
    second_orders = second.records.get("orders", [])
    # No finished month was fetched again: the resumed run's orders all come from later windows.
    history_end = first.state["bookmarks"]["orders"]["windows"]["backfill"]["end"]
    finished_orders = [r for r in second_orders if r["updated_at"] < history_end and r["updated_at"][:7] in finished]
    assert finished_orders == []
    emitted = {r["id"] for r in first.records.get("orders", [])} | {r["id"] for r in second_orders}
    assert len(emitted) == truth["orders"]  # nothing lost at the seam
    for stream in ("transactions", "products", "customers", "payouts", "balance_transactions"):
        # Their recent windows came in the first run, ahead of the orders' history.
        both = {r["id"] for r in first.records.get(stream, [])} | {r["id"] for r in second.records.get(stream, [])}
        assert len(both) == truth[stream], stream


def in_flight(state: dict) -> dict[str, dict[str, str]]:
    """Bulk operations recorded in state: stream -> {month: operation id}."""
    bookmarks = state.get("bookmarks", {})
    found = {name: bookmarks.get(name, {}).get("windows", {}).get("bulk") or {} for name in BULK_STREAMS}
    return {name: operations for name, operations in found.items() if operations}


def test_bulk_operations_that_expired_while_the_tap_was_away_are_run_again(tmp_path):
    """Killed with operations in flight; days later Shopify shows them EXPIRED: their months come again."""
    with running_sandbox(seed=12, orders=300, months=6, plan="plus") as sandbox:
        config = tap_config(sandbox, bulk_threshold=5, max_concurrency=3)
        lines, killed = run_tap(tmp_path, config, None, kill_when=lambda s: bool(in_flight(s)))
        assert killed
        first = parse_messages(lines)
        recorded = in_flight(first.state)
        deadline = time.monotonic() + 60
        while shopify_stats(sandbox)["bulk_running"] and time.monotonic() < deadline:
            time.sleep(0.1)  # the operations finish while the tap is away ...
        control(sandbox, "advance", {"days": 8})  # ... and their results expire (7 days)
        expired = shopify_stats(sandbox)["bulk_expired"]
        created = shopify_stats(sandbox)["bulk_created"]
        lines, killed = run_tap(tmp_path, config, first.state)
        second = parse_messages(lines)
        truth = truth_counts(sandbox)
        stats = shopify_stats(sandbox)
        store = sandbox.world.store
    log = (tmp_path / "tap.log").read_text()
    assert not killed
    operations = sum(len(months) for months in recorded.values())
    assert expired >= operations > 0
    assert log.count("expired; running the operation again") == operations
    assert stats["bulk_created"] - created >= operations  # each run again
    assert in_flight(second.state) == {}
    for stream in BULK_STREAMS:
        again = [row["id"] for row in second.records.get(stream, [])]
        assert len(again) == len(set(again)), f"{stream}: records emitted twice"
        both = {row["id"] for row in first.records.get(stream, [])} | set(again)
        assert len(both) == truth[stream], stream
    # Every order of the expired months (as the store has them now) came in the resumed run.
    end = datetime.fromisoformat(first.state["bookmarks"]["orders"]["windows"]["backfill"]["end"])
    months = recorded.get("orders", {})
    expected = {
        f"gid://shopify/Order/{o.id}" for o in store.orders if o.updated_at < end and f"{o.updated_at:%Y-%m}" in months
    }
    assert expected
    assert expected <= {row["id"] for row in second.records["orders"]}
