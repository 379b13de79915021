"""History windows: monthly, newest first, resumable, meeting the live window without a gap."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from tap_shopify_bloom.windows import Window, WindowPlan, month_windows, parse_iso


def test_month_windows_cover_the_range_newest_first():
    start = datetime(2026, 1, 15, 6, tzinfo=UTC)
    end = datetime(2026, 4, 10, tzinfo=UTC)
    windows = month_windows(start, end)
    assert [w.key for w in windows] == ["2026-04", "2026-03", "2026-02", "2026-01"]
    assert windows[0].end == end
    assert windows[-1].start == start
    for newer, older in itertools.pairwise(windows):
        assert older.end == newer.start


def test_search_is_half_open_and_quoted():
    window = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))
    assert window.search("updated_at") == "updated_at:>='2026-01-01T00:00:00Z' AND updated_at:<'2026-02-01T00:00:00Z'"
    assert Window(datetime(2026, 1, 1, tzinfo=UTC)).search("issued_at") == "issued_at:>='2026-01-01T00:00:00Z'"


def test_first_run_plans_live_window_then_history_and_resumes():
    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    state: dict = {}
    plan, live = WindowPlan.begin(
        state, start_date=datetime(2026, 8, 20, tzinfo=UTC), now=now, initial_window=timedelta(days=7)
    )
    assert live.start == now - timedelta(days=7)
    assert live.end is None
    assert parse_iso(state["backfill"]["end"]) == live.start  # no gap between history and live data
    plan.finish_live("2026-11-28T11:00:00Z", live)
    assert [w.key for w in plan.pending_history()] == ["2026-11", "2026-10", "2026-09", "2026-08"]
    plan.finish_month("2026-11")
    plan.finish_month("2026-10")
    # An interrupted run resumes at the first unfinished month.
    resumed, live_again = WindowPlan.begin(
        state, start_date=datetime(2026, 8, 20, tzinfo=UTC), now=now, initial_window=timedelta(days=7)
    )
    assert live_again.start == parse_iso("2026-11-28T11:00:00Z")
    assert [w.key for w in resumed.pending_history()] == ["2026-09", "2026-08"]
    resumed.finish_month("2026-09")
    resumed.finish_month("2026-08")
    assert "backfill" not in state


def test_split_halves_a_window():
    window = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC), "2026-01")
    first, second = window.split()
    assert first.start == window.start
    assert second.end == window.end
    assert first.end == second.start
    assert Window(window.start, window.start + timedelta(hours=1)).split() is None


def test_open_start_reaches_before_the_start_date():
    start = datetime(2026, 3, 10, tzinfo=UTC)
    windows = month_windows(start, datetime(2026, 5, 2, tzinfo=UTC), open_start=True)
    assert [w.key for w in windows] == ["2026-05", "2026-04", "2026-03"]
    assert windows[-1].start is None
    assert windows[-1].search("updated_at") == "updated_at:<'2026-04-01T00:00:00Z'"
    assert month_windows(start, start, open_start=True) == [Window(None, start, "2026-03")]


def test_whole_first_run_reads_everything_once_then_only_changes():
    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    settings = {"start_date": datetime(2026, 8, 20, tzinfo=UTC), "now": now, "initial_window": timedelta(days=7)}
    state: dict = {}
    plan, live = WindowPlan.begin(state, **settings, whole=True)
    assert live == Window(None)  # no start: everything, whatever its age or the start date
    assert live.search("updated_at") == ""
    plan.finish_live("2026-10-02T10:00:00Z", live)
    assert state == {"cursor": "2026-10-02T10:00:00Z"}  # no history left behind it
    assert plan.pending_history() == []
    _, later = WindowPlan.begin(state, **settings, whole=True)
    assert later == Window(parse_iso("2026-10-02T10:00:00Z"))  # from then on only what changed
    empty: dict = {}
    plan, live = WindowPlan.begin(empty, **settings, whole=True)
    plan.finish_live(None, live)
    assert empty == {}  # nothing seen: the next run reads the whole table again
