"""Window planning, without HTTP."""

from __future__ import annotations

from datetime import date

from tap_adplatforms.windows import Window, advance_history, monthly, months_before, plan


def test_first_sync_plans_recent_days_then_months():
    result = plan(
        start=date(2026, 9, 15), today=date(2026, 11, 28), bookmark=None, history=None, lookback_days=28, initial_days=7
    )
    # The account days that overlap the last 7 x 24 hours: today and the 7 days before it.
    assert result.windows[0] == Window(date(2026, 11, 21), date(2026, 11, 28))
    assert [(w.since, w.until) for w in result.windows[1:]] == [
        (date(2026, 9, 15), date(2026, 9, 30)),
        (date(2026, 10, 1), date(2026, 10, 31)),
        (date(2026, 11, 1), date(2026, 11, 20)),
    ]
    assert result.history == {"until": "2026-11-20", "next": "2026-09-15"}


def test_later_run_rereads_lookback_before_bookmark():
    result = plan(
        start=date(2025, 1, 1),
        today=date(2026, 11, 28),
        bookmark=date(2026, 11, 20),
        history={"until": "2026-10-01", "next": None},
        lookback_days=7,
        initial_days=7,
    )
    assert result.windows == [Window(date(2026, 11, 14), date(2026, 11, 28))]


def test_history_advances_and_finishes():
    history = {"until": "2026-10-10", "next": "2026-09-01"}
    first, second = monthly(date(2026, 9, 1), date(2026, 10, 10))
    advance_history(history, first)
    assert history["next"] == "2026-10-01"
    advance_history(history, second)
    assert history["next"] is None


def test_interrupted_first_sync_rereads_from_history_end():
    result = plan(
        start=date(2026, 1, 1),
        today=date(2026, 12, 10),
        bookmark=None,
        history={"until": "2026-11-21", "next": "2026-06-01"},
        lookback_days=28,
        initial_days=7,
    )
    assert result.windows[0] == Window(date(2026, 11, 22), date(2026, 12, 10))
    assert result.windows[1].since == date(2026, 6, 1)


def test_split_respects_the_api_limit():
    parts = Window(date(2026, 1, 1), date(2026, 3, 2)).split(30)  # 61 days
    assert [p.days for p in parts] == [30, 30, 1]
    assert parts[0].since == date(2026, 1, 1)
    assert parts[-1].until == date(2026, 3, 2)
    assert Window(date(2026, 1, 1), date(2026, 1, 31)).split(None) == [Window(date(2026, 1, 1), date(2026, 1, 31))]


def test_nothing_to_read_before_start():
    assert (
        plan(
            start=date(2027, 1, 1),
            today=date(2026, 11, 28),
            bookmark=None,
            history=None,
            lookback_days=7,
            initial_days=7,
        ).windows
        == []
    )


def test_months_before():
    assert months_before(date(2026, 11, 28), 37) == date(2023, 10, 28)
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_before(date(2026, 1, 15), 13) == date(2024, 12, 15)


def test_backfill_false_leaves_the_history_pending_and_the_next_run_starts_after_it():
    first = plan(
        start=date(2026, 9, 15),
        today=date(2026, 11, 28),
        bookmark=None,
        history=None,
        lookback_days=28,
        initial_days=7,
        backfill=False,
    )
    assert first.windows == [Window(date(2026, 11, 21), date(2026, 11, 28))]
    assert first.history == {"until": "2026-11-20", "next": "2026-09-15"}
    # A later run, the history still pending: the 28-day re-read stops at the history's end.
    later = plan(
        start=date(2026, 9, 15),
        today=date(2026, 11, 29),
        bookmark=date(2026, 11, 28),
        history=first.history,
        lookback_days=28,
        initial_days=7,
        backfill=True,
    )
    assert later.windows[0] == Window(date(2026, 11, 21), date(2026, 11, 29))
    assert [(w.since, w.until) for w in later.windows[1:]] == [
        (date(2026, 9, 15), date(2026, 9, 30)),
        (date(2026, 10, 1), date(2026, 10, 31)),
        (date(2026, 11, 1), date(2026, 11, 20)),
    ]
