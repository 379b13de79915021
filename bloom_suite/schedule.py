"""The next run of meltano.yml's schedules, from ``meltano schedule list --format=json``.

Meltano gives each schedule's ``cron_interval`` (``@daily`` becomes ``0 0 * * *``); the next
time is computed here, in UTC, for the five-field cron syntax (``*``, numbers, lists, ranges,
steps), minute by minute over the next year at most.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

FIELDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))  # minute, hour, day of month, month, day of week


@dataclass(frozen=True)
class NextRun:
    """One schedule's next start."""

    schedule: str
    job: str
    cron: str
    at: datetime | None  # None: the interval never fires (or is not a cron line)


def _values(field: str, low: int, high: int) -> set[int]:
    values: set[int] = set()
    for part in field.split(","):
        spec, _, step = part.partition("/")
        start, end = (low, high) if spec == "*" else (int(spec.split("-")[0]), int(spec.split("-")[-1]))
        values.update(range(start, end + 1, int(step or 1)))
    return values


def next_time(cron: str, after: datetime) -> datetime | None:
    """The first minute after ``after`` (UTC) that the five-field ``cron`` line matches."""
    fields = cron.split()
    if len(fields) != 5:
        return None
    try:
        minutes, hours, days, months, weekdays = (
            _values(field, low, high) for field, (low, high) in zip(fields, FIELDS, strict=True)
        )
    except ValueError:
        return None
    weekdays = {day % 7 for day in weekdays}  # 0 and 7 are Sunday
    # Cron's rule: when both day fields are restricted, either one matching is enough.
    either = fields[2] != "*" and fields[4] != "*"
    moment = after.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    for _ in range(366 * 24 * 60):
        day_ok = (moment.day in days) or (moment.isoweekday() % 7 in weekdays) if either else (
            moment.day in days and moment.isoweekday() % 7 in weekdays)  # fmt: skip
        if moment.minute in minutes and moment.hour in hours and moment.month in months and day_ok:
            return moment
        moment += timedelta(minutes=1)
    return None


def next_runs(
    meltano: str, root: Path, environment: str | None, env: Mapping[str, str], now: datetime
) -> list[NextRun]:
    """Every schedule of the project with its next start (empty when meltano cannot list them)."""
    command = [meltano, *([f"--environment={environment}"] if environment else []), "schedule", "list", "--format=json"]
    done = subprocess.run(command, cwd=root, env=dict(env), capture_output=True, text=True, check=False)
    try:
        listed = json.loads(done.stdout)["schedules"]["job"]
    except (ValueError, KeyError, TypeError):
        return []
    return [
        NextRun(item["name"], item["job"]["name"], item["cron_interval"], next_time(item["cron_interval"], now))
        for item in listed
    ]
