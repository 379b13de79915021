"""ShipStation's Pacific wall-clock times, converted to and from UTC.

ShipStation API v1 sends and expects times in US Pacific time (``America/Los_Angeles``)
without an offset. During the hour repeated when daylight saving time ends (01:00-02:00
on the first Sunday of November) a wall time names two instants; the earlier one (PDT)
is taken, so such labels may be placed one hour early. Nothing in the response tells the
two apart.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

PACIFIC = ZoneInfo("America/Los_Angeles")
_WALL_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,7}))?")


def pacific_to_utc(text: str) -> datetime:
    """Convert ShipStation's ``2014-10-03T06:51:33.627`` (Pacific) to an aware UTC datetime.

    Raises:
        ValueError: if the text is not a ShipStation timestamp.
    """
    match = _WALL_TIME.fullmatch(text.strip())
    if not match:
        msg = f"not a ShipStation timestamp: {text!r}"
        raise ValueError(msg)
    day, clock, fraction = match.groups()
    micros = int((fraction or "0").ljust(6, "0")[:6])
    wall = datetime.fromisoformat(f"{day}T{clock}").replace(microsecond=micros, tzinfo=PACIFIC, fold=0)
    return wall.astimezone(UTC)


def utc_to_pacific(moment: datetime) -> str:
    """Format an aware datetime as a ShipStation date filter (``2015-01-01 00:00:00``, Pacific)."""
    return moment.astimezone(PACIFIC).strftime("%Y-%m-%d %H:%M:%S")


def utc_iso(moment: datetime) -> str:
    """ISO-8601 UTC with microseconds and ``+00:00``, as every record carries its times."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse_iso(text: str) -> datetime:
    """Parse an ISO-8601 time (``Z`` allowed); naive times are taken as UTC."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
