"""Kill points of the fault suite: placed by the undisturbed run's progress, always before its end."""

from __future__ import annotations

import pytest
from _faults import KillPoint

# An undisturbed run: 4 s of start-up, then a line every second up to 23 s, then the last 3 lines at once.
LINES = [4.0 + n for n in range(20)] + [23.5, 23.5, 23.5]
SECONDS = 24.0


def test_a_point_waits_for_the_line_the_undisturbed_run_had_reached_then():
    point = KillPoint.at(0.5, LINES, SECONDS)  # 12 s: 9 lines had come (4..12 s), 0 s after the 9th
    assert (point.line, point.delay, point.of_lines) == (9, 0.0, 23)
    slower = [2 * t for t in LINES]
    assert not point.due(slower[:8], elapsed=30.0)  # however long it takes, not before line 9
    assert not point.due(slower[:9], elapsed=slower[8] - 0.01)
    assert point.due(slower[:9], elapsed=slower[8])


def test_a_point_before_the_first_line_counts_from_the_start():
    point = KillPoint.at(0.1, LINES, SECONDS)  # 2.4 s, before any line
    assert (point.line, round(point.delay, 3)) == (0, 2.4)
    assert not point.due([], elapsed=2.3)
    assert point.due([], elapsed=2.5)
    assert point.due([0.5], elapsed=0.5)  # the next line came first: at once


@pytest.mark.parametrize("fraction", [0.9, 0.95, 0.99, 1.0])
def test_a_late_point_stays_five_lines_and_1_5_s_before_the_end(fraction):
    point = KillPoint.at(fraction, LINES, SECONDS)
    assert point.line <= len(LINES) - 5
    moment = (LINES[point.line - 1] if point.line else 0.0) + point.delay
    assert moment <= SECONDS - 1.5
    # The run has more to write when the point comes: it cannot have ended.
    assert point.due(LINES[: point.line + 1], elapsed=LINES[point.line])
