"""Which days a run reads for one account, and in which windows.

A first sync reads the most recent ``initial_days`` first, then the history before them
in closed calendar-month windows, oldest first. The history plan lives in the account's
state (``{"until": <last history day>, "next": <first unread day or null>}``) so an
interrupted backfill resumes at its first unfinished month. Later runs re-read a
trailing ``lookback_days`` window before the bookmark, because platforms revise recent
figures. Windows are split further to an API's limit on days per call.

With ``backfill`` false a run reads only its live window and leaves the history plan
pending in state; the first run with ``backfill`` true reads it from ``next``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any


@dataclass(frozen=True)
class Window:
    """Days ``since..until`` (both inclusive); ``history`` windows advance the history plan."""

    since: date
    until: date
    history: bool = False

    @property
    def days(self) -> int:
        """How many days the window holds."""
        return (self.until - self.since).days + 1

    def split(self, max_days: int | None) -> list[Window]:
        """This window cut into consecutive windows of at most ``max_days`` days."""
        if not max_days or self.days <= max_days:
            return [self]
        parts, since = [], self.since
        while since <= self.until:
            until = min(since + timedelta(days=max_days - 1), self.until)
            parts.append(Window(since, until, self.history))
            since = until + timedelta(days=1)
        return parts


@dataclass
class Plan:
    """The windows of one run and the history state to keep."""

    windows: list[Window]
    history: dict[str, Any]


def _month_end(day: date) -> date:
    first_of_next = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return first_of_next - timedelta(days=1)


def months_before(day: date, months: int) -> date:
    """The same day of the month ``months`` earlier (clamped to the month's last day)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return min(
        day.replace(year=year, month=month + 1, day=1) + timedelta(days=day.day - 1),
        _month_end(date(year, month + 1, 1)),
    )


def monthly(since: date, until: date) -> list[Window]:
    """Calendar-month windows covering ``since..until``, oldest first."""
    windows, day = [], since
    while day <= until:
        end = min(_month_end(day), until)
        windows.append(Window(day, end, history=True))
        day = end + timedelta(days=1)
    return windows


def plan(
    *,
    start: date,
    today: date,
    bookmark: date | None,
    history: dict[str, Any] | None,
    lookback_days: int,
    initial_days: int,
    backfill: bool = True,
) -> Plan:
    """The windows to read now for one account.

    Args:
        start: First day of history (the start_date setting).
        today: Last day to read (the account's today, or end_date).
        bookmark: Last day a finished run read, if any.
        history: The account's history plan from state, if any.
        lookback_days: Days before the bookmark to read again.
        initial_days: Recent days a first sync reads before history: the account days
            overlapping the last ``initial_days`` x 24 hours (today and the ``initial_days`` before).
        backfill: Whether to read the pending history too (else it stays pending in the plan).

    Returns:
        The windows, recent first, and the history plan to record.
    """
    if today < start:
        return Plan([], history or {"until": None, "next": None})
    if bookmark is None:
        # The account days that overlap the last `initial_days` x 24 hours, wherever the
        # account's zone lies: the other taps' first windows are that span, and a shop day
        # they read whole needs every account day of it (an account ahead of the shop is on
        # its next day already).
        since = max(start, today - timedelta(days=initial_days))
    else:
        since = max(start, min(bookmark, today) - timedelta(days=lookback_days - 1))
    if history is None:
        until = since - timedelta(days=1)
        history = {"until": until.isoformat(), "next": start.isoformat() if until >= start else None}
    elif bookmark is None and history.get("until"):
        # An interrupted first sync: read again from the end of the history plan.
        since = min(since, date.fromisoformat(history["until"]) + timedelta(days=1))
    elif history.get("next") and history.get("until"):
        # Pending history (left by backfill false) owns the days up to its end: the trailing
        # window stops there, so that no day is read twice.
        since = max(since, date.fromisoformat(history["until"]) + timedelta(days=1))
    windows = [Window(since, today)]
    if backfill and history.get("next"):
        windows += monthly(date.fromisoformat(history["next"]), date.fromisoformat(history["until"]))
    return Plan(windows, dict(history))


def advance_history(history: dict[str, Any], window: Window) -> None:
    """Record that a whole history window has been read."""
    following = window.until + timedelta(days=1)
    history["next"] = None if following > date.fromisoformat(history["until"]) else following.isoformat()


def history_line(stream: str, platform: str, account_id: str, start: date, history: dict[str, Any]) -> str:
    """The ``HISTORY:`` line saying how much of one account's history (from ``start``) is still pending.

    Months are calendar months; the pending days are ``pending_from`` up to the day before ``pending_to``.
    """
    until = date.fromisoformat(history["until"]) if history.get("until") else None
    following = date.fromisoformat(history["next"]) if history.get("next") and until else None
    first = min(start, following) if following else start
    line = {
        "stream": stream,
        "shop": None,
        "platform": platform,
        "account_id": account_id,
        "months": len(monthly(first, until)) if until else None,
        "months_pending": len(monthly(following, until)) if following and until else 0,
        "pending_from": following.isoformat() if following else None,
        "pending_to": (until + timedelta(days=1)).isoformat() if following and until else None,
    }
    return "HISTORY: " + json.dumps(line)
