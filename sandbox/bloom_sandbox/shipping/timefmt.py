"""Time formats of the shipping APIs."""

from __future__ import annotations

from datetime import UTC, datetime

from bloom_sandbox.shipping.labels import PACIFIC


def shipstation_time(moment: datetime) -> str:
    """ShipStation's timestamp: Pacific wall time, no offset, fraction trimmed like .NET."""
    local = moment.astimezone(PACIFIC)
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{local.microsecond:06d}"[:3].rstrip("0")
    return f"{text}.{fraction}" if fraction else text


def parse_shipstation_filter(text: str) -> datetime:
    """A ShipStation date filter (``2015-01-01 00:00:00`` or ``2015-01-01``), Pacific time."""
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), fmt).replace(tzinfo=PACIFIC)
        except ValueError:
            continue
    raise ValueError(text)


def shippo_time(moment: datetime) -> str:
    """Shippo's timestamp: UTC ISO-8601 with milliseconds and ``Z``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
