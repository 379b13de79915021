"""Time windows of a sync: the live window and the closed monthly history windows.

A stream's progress lives in its Singer state under ``windows``::

    {"cursor": "<latest value of the filter field seen>",
     "backfill": {"start": "...", "end": "...", "done": ["2026-09", ...]}}

``backfill`` exists from the first run until every month from ``start`` to ``end`` is
done; ``end`` is where the first live window began, so history and live data meet
without a gap. A stream read whole on its first run (the catalog) has no ``backfill``:
its first live window has no start, so there is no history behind it.
"""

from __future__ import annotations

import json
import typing as t
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


def iso(moment: datetime) -> str:
    """UTC ISO-8601 with a ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str) -> datetime:
    """Parse an ISO-8601 time (``Z`` or an offset), as aware UTC."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def is_iso(value: object) -> bool:
    """Whether ``value`` is an ISO-8601 time :func:`parse_iso` reads."""
    if not isinstance(value, str):
        return False
    try:
        parse_iso(value)
    except ValueError:
        return False
    return True


def month_start(moment: datetime) -> datetime:
    """Midnight UTC of the first day of ``moment``'s month."""
    return moment.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month(moment: datetime) -> datetime:
    """The first day of the month after ``moment``'s month."""
    first = month_start(moment)
    return (first + timedelta(days=32)).replace(day=1)


@dataclass(frozen=True)
class Window:
    """A half-open time window ``[start, end)``; a None bound is open."""

    start: datetime | None
    end: datetime | None = None
    key: str | None = None  # month key ("2026-09") of a history window

    def search(self, field: str) -> str:
        """Shopify search syntax selecting this window on ``field``."""
        terms = []
        if self.start is not None:
            terms.append(f"{field}:>='{iso(self.start)}'")
        if self.end is not None:
            terms.append(f"{field}:<'{iso(self.end)}'")
        return " AND ".join(terms)

    def split(self) -> tuple[Window, Window] | None:
        """Two halves of a closed window (None when it cannot be split further)."""
        if self.start is None or self.end is None or self.end - self.start < timedelta(hours=2):
            return None
        middle = self.start + (self.end - self.start) / 2
        middle = middle.replace(microsecond=0)
        return Window(self.start, middle, self.key), Window(middle, self.end, self.key)

    def __str__(self) -> str:
        start = iso(self.start) if self.start else "beginning"
        return f"[{start}, {iso(self.end) if self.end else 'now'})"


def month_windows(start: datetime, end: datetime, *, open_start: bool = False) -> list[Window]:
    """Monthly windows covering ``[start, end)``, newest first.

    With ``open_start`` the oldest window also covers everything before ``start``.
    """
    windows: list[Window] = []
    cursor = month_start(start)
    while cursor < end:
        following = next_month(cursor)
        windows.append(Window(max(start, cursor), min(end, following), cursor.strftime("%Y-%m")))
        cursor = following
    if open_start:
        key = month_start(start).strftime("%Y-%m")
        windows[:1] = [Window(None, windows[0].end if windows else end, key)]
    return list(reversed(windows))


@dataclass
class WindowPlan:
    """What one run of a stream fetches, derived from and recorded in its state."""

    state: dict[str, t.Any]  # the stream's ``windows`` block, mutated in place
    open_start: bool = False  # the oldest history window reaches back before start_date

    @classmethod
    def begin(
        cls,
        state: dict[str, t.Any],
        *,
        start_date: datetime,
        now: datetime,
        initial_window: timedelta,
        lookback: timedelta = timedelta(0),
        open_start: bool = False,
        whole: bool = False,
    ) -> tuple[WindowPlan, Window]:
        """The plan for this run and its live window; sets up the backfill on a first run.

        With ``whole`` a first run's live window is everything (no start, no history).
        """
        plan = cls(state, open_start)
        if "cursor" not in state and "backfill" not in state:
            if whole:
                return plan, Window(None)
            live_start = max(start_date, now - initial_window).replace(microsecond=0)
            if live_start > start_date or open_start:
                state["backfill"] = {"start": iso(start_date), "end": iso(live_start), "done": []}
            state["live_start"] = iso(live_start)
        live_start = parse_iso(state["cursor"]) - lookback if "cursor" in state else parse_iso(state["live_start"])
        if "backfill" in state:  # the pending history covers what lies before its end
            live_start = max(live_start, parse_iso(state["backfill"]["end"]))
        return plan, Window(max(start_date, live_start))

    def finish_live(self, latest: str | None, live: Window) -> None:
        """Record that the live window is done up to the latest value seen.

        A whole window that saw nothing (an empty table) records no cursor: the next run
        reads the whole table again.
        """
        current = self.state.get("cursor")
        candidates = [v for v in (current, latest) if v]
        if candidates:
            self.state["cursor"] = max(candidates, key=parse_iso)
        elif live.start is not None:
            self.state["cursor"] = iso(live.start)
        self.state.pop("live_start", None)

    def pending_history(self) -> list[Window]:
        """History windows not yet done, newest first."""
        backfill = self.state.get("backfill")
        if not backfill:
            return []
        done = set(backfill["done"])
        windows = month_windows(parse_iso(backfill["start"]), parse_iso(backfill["end"]), open_start=self.open_start)
        return [w for w in windows if w.key not in done]

    def finish_month(self, key: str) -> None:
        """Record a finished history month; drop the backfill block once all are done."""
        backfill = self.state["backfill"]
        backfill["done"].append(key)
        if not self.pending_history():
            self.state.pop("backfill")


def history_line(stream: str, shop: str, plan: WindowPlan) -> str:
    """The ``HISTORY:`` line saying how much of the stream's history is still pending.

    ``months`` counts the backfill's monthly windows (None once the backfill is done and gone);
    the pending span is ``[pending_from, pending_to)``, ``pending_from`` None for an open start.
    """
    backfill = plan.state.get("backfill")
    pending = plan.pending_history()
    months = None
    if backfill:
        bounds = parse_iso(backfill["start"]), parse_iso(backfill["end"])
        months = len(month_windows(*bounds, open_start=plan.open_start))
    oldest = pending[-1].start if pending else None
    line = {
        "stream": stream,
        "shop": shop,
        "platform": None,
        "account_id": None,
        "months": months,
        "months_pending": len(pending),
        "pending_from": iso(oldest) if oldest else None,
        "pending_to": iso(t.cast("datetime", pending[0].end)) if pending else None,
    }
    return "HISTORY: " + json.dumps(line)
