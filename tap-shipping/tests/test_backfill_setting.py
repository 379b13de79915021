"""``backfill: false`` reads only the recent labels; a later default run reads the history from state
(the sandbox over real HTTP, its clock at the real now: the recent window is the real last days)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from math import ceil

import pytest
from bloom_sandbox.shipping import LabelBook
from bloom_sandbox.testing import RunningSandbox, running_sandbox

from tests.conftest import shorten_windows
from tests.helpers import (
    TapRun,
    costs_by_order,
    history_lines,
    latest_labels,
    run_tap,
    sandbox_config,
    sandbox_stats,
    sandbox_truth,
)

PROVIDERS = ("shipstation", "shippo")
#: Stream -> its key and its creation time.
RAW = {
    "shipstation_shipments": ("shipmentId", "created_at"),
    "shippo_transactions": ("object_id", "object_created"),
    "shippo_refunds": ("object_id", "object_created"),
}


@pytest.fixture
def live_sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox(seed=11, orders=800, months=4, now=datetime.now(UTC)) as running:
        yield shorten_windows(running)


def ids(run: TapRun, stream: str) -> list[str]:
    key = ("provider", "label_id") if stream == "shipping_labels" else (RAW[stream][0],)
    return [":".join(str(r[k]) for k in key) for r in run.records[stream]]


def created(record: dict) -> datetime:
    raw = record.get("created_at") or record.get("object_created")
    return datetime.fromisoformat(raw.replace("Z", "+00:00"))


def in_window_void(record: dict, since: datetime) -> bool:
    """An older label of ``shipping_labels`` voided within the window (the live window re-reads those)."""
    return bool(record.get("voided")) and datetime.fromisoformat(record["voided_at"]) >= since


def partitions(run: TapRun) -> dict[str, list[dict]]:
    assert run.state is not None
    return {stream: block["partitions"] for stream, block in run.state["bookmarks"].items()}


def test_recent_labels_first_then_the_history_from_state(live_sandbox, tmp_path):
    config = sandbox_config(live_sandbox.url)
    started = datetime.now(UTC)
    recent = run_tap(tmp_path / "recent", {**config, "backfill": False})
    assert recent.returncode == 0, recent.stderr
    truth = sandbox_truth(live_sandbox.url)
    # The first run: labels of the last 7 days only; every partition owes the history before them.
    ends = set()
    for stream, parts in partitions(recent).items():
        for part in parts:
            assert part["history"]["start"] is None, stream  # no start_date: all history is owed
            ends.add(part["history"]["end"])
    assert len(partitions(recent)) == 4
    end = datetime.fromisoformat(min(ends))
    assert started - timedelta(days=7, minutes=1) < end <= datetime.now(UTC) - timedelta(days=7)
    # Their HISTORY lines: an open start, so the months owed are not known.
    (line,) = history_lines(recent.stderr, "shipping_labels", "shipstation")
    assert (line["months"], line["months_pending"], line["pending_from"]) == (None, None, None)
    assert datetime.fromisoformat(line["pending_to"].replace("Z", "+00:00")) == end.replace(microsecond=0)
    for stream in ("shipping_labels", *RAW):
        assert recent.records[stream], stream
        assert all(created(r) >= end or in_window_void(r, end) for r in recent.records[stream]), stream
    assert 0 < len(recent.records["shipping_labels"]) < sum(truth[p]["labels"] for p in PROVIDERS) / 4

    # Still false: only what is new since, the history stays owed as it was.
    daily = run_tap(tmp_path / "daily", {**config, "backfill": False}, state=recent.state)
    assert daily.returncode == 0, daily.stderr
    owed = {stream: [part["history"] for part in parts] for stream, parts in partitions(recent).items()}
    assert {stream: [part["history"] for part in parts] for stream, parts in partitions(daily).items()} == owed
    assert all(
        created(r) >= end or in_window_void(r, end)
        for stream in ("shipping_labels", *RAW)
        for r in daily.records[stream]
    )

    # The next run with the default reads the history: together the runs hold the truth.
    before = sandbox_stats(live_sandbox.url)
    full = run_tap(tmp_path / "full", config, state=daily.state)
    assert full.returncode == 0, full.stderr
    made = {p: sandbox_stats(live_sandbox.url)[p]["requests"] - before[p]["requests"] for p in PROVIDERS}
    for stream, parts in partitions(full).items():
        assert all("history" not in part for part in parts), stream
    for stream in ("shipping_labels", *RAW):
        for run in (recent, daily, full):
            assert not [k for k, n in Counter(ids(run, stream)).items() if n > 1], f"{stream}: emitted twice in a run"
    labels = latest_labels(recent, daily, full)
    for provider in PROVIDERS:
        generated = LabelBook(live_sandbox.world.seed, live_sandbox.world.store).visible(provider)
        assert {label_id for kind, label_id in labels if kind == provider} == {lb.label_id for lb in generated}
        assert costs_by_order(labels, provider) == {
            order: Decimal(cost) for order, cost in truth[provider]["label_cost_by_order"].items()
        }
    assert (
        len(set(ids(recent, "shippo_transactions")) | set(ids(full, "shippo_transactions")))
        == truth["shippo"]["labels"]
    )
    assert (
        len(set(ids(recent, "shipstation_shipments")) | set(ids(full, "shipstation_shipments")))
        == truth["shipstation"]["labels"]
    )
    # The history and the trailing window in one pass: the requests of a whole first sync, no more.
    assert made == {
        "shipstation": ceil(truth["shipstation"]["labels"] / 500) + 1,
        "shippo": ceil(truth["shippo"]["labels"] / 100) + ceil(truth["shippo"]["voided"] / 100) + 1,
    }


def test_history_line_shows_the_history_pending_then_done(live_sandbox, tmp_path):
    """``HISTORY:`` lines of one account: its history pending after a quick run, none after the next."""
    start = (datetime.now(UTC) - timedelta(days=75)).replace(hour=0, minute=0, second=0, microsecond=0)
    config = sandbox_config(live_sandbox.url, start_date=start.strftime("%Y-%m-%dT%H:%M:%SZ"))
    started = datetime.now(UTC)
    recent = run_tap(tmp_path / "recent", {**config, "backfill": False})
    assert recent.returncode == 0, recent.stderr
    (line,) = history_lines(recent.stderr, "shipping_labels", "shippo")  # once, at the start
    # The recent window began initial_window_days (7) ago: the history is start_date up to there.
    end = datetime.fromisoformat(line["pending_to"].replace("Z", "+00:00"))
    assert started - timedelta(days=7, seconds=1) < end <= datetime.now(UTC) - timedelta(days=7)
    last = end - timedelta(microseconds=1)
    months = (last.year - start.year) * 12 + last.month - start.month + 1  # the calendar months it touches
    assert months > 1
    pending = {
        "stream": "shipping_labels",
        "shop": None,
        "platform": "shippo",
        "account_id": "sandbox-shippo",
        "months": months,
        "months_pending": months,
        "pending_from": config["start_date"],
        "pending_to": line["pending_to"],
    }
    assert line == pending
    transactions = history_lines(recent.stderr, "shippo_transactions", "shippo")
    assert transactions == [{**pending, "stream": "shippo_transactions"}]  # the raw streams keep theirs too

    full = run_tap(tmp_path / "full", config, state=recent.state)
    assert full.returncode == 0, full.stderr
    lines = history_lines(full.stderr, "shipping_labels", "shippo")
    done = {**pending, "months": None, "months_pending": 0, "pending_from": None, "pending_to": None}
    assert lines == [pending, done]  # as the run starts, then once the history read is finished
    assert history_lines(full.stderr, "shipping_labels", "shipstation")[-1]["months_pending"] == 0
    again = run_tap(tmp_path / "again", config, state=full.state)
    assert history_lines(again.stderr, "shipping_labels", "shippo") == [done]  # nothing owed: still said
