"""The next run of a schedule's cron line (``bloom_suite/schedule.py``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bloom_suite.schedule import next_time

AFTER = datetime(2026, 12, 7, 13, 47, 21, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize(
    ("cron", "expected"),
    [
        ("0 0 * * *", datetime(2026, 12, 8, 0, 0, tzinfo=UTC)),  # @daily
        ("0 * * * *", datetime(2026, 12, 7, 14, 0, tzinfo=UTC)),  # @hourly
        ("*/15 6-18 * * 1-5", datetime(2026, 12, 7, 14, 0, tzinfo=UTC)),
        ("0 0 * * 0", datetime(2026, 12, 13, 0, 0, tzinfo=UTC)),  # @weekly: Sunday
        ("0 0 1 * *", datetime(2027, 1, 1, 0, 0, tzinfo=UTC)),  # @monthly
        ("30 5 1,15 * 5", datetime(2026, 12, 11, 5, 30, tzinfo=UTC)),  # day 1 or 15, or a Friday
        ("0 0 30 2 *", None),  # never
        ("@daily", None),  # not a cron line: Meltano gives cron_interval
    ],
)
def test_next_time(cron: str, expected: datetime | None) -> None:
    assert next_time(cron, AFTER) == expected
