"""How long the tap waits for Meta's business-use-case limit: before the limit and after a block.

Waits are recorded instead of slept (``time.sleep`` is replaced), with a longest wait far
above what Meta asks for, so the recorded waits are the tap's own choice.
"""

from __future__ import annotations

import time

import pytest
from adplatforms_testkit import truth_by_day


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every sleep of the run, in seconds (nothing is slept)."""
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    return slept


def _spend_matches(sandbox, output) -> None:
    want = truth_by_day(sandbox.truth("meta"), sandbox.days_ago(60), sandbox.today)
    assert output.spend_by_day("meta") == {a: d for a, d in want.items() if d}


def test_a_block_is_waited_out_for_the_time_meta_announces(sandbox, run_tap, waits):
    """Error 80004 with estimated_time_to_regain_access = 3 minutes: the retry comes 180 s later."""
    sandbox.faults({"type": "meta_throttle", "count": 1, "account": "1001", "minutes": 3})
    output = run_tap(sandbox.config("meta", rate_limit_max_wait_seconds=3600))
    assert sandbox.stats("meta")["throttled"] == 1
    assert 180.0 in waits, waits
    _spend_matches(sandbox, output)


def test_high_usage_slows_down_before_meta_blocks(sandbox, run_tap, waits):
    """Usage past meta_usage_pause_percent (75 %) makes the tap pause before its next call, so Meta never
    answers with a block."""
    sandbox.faults({"type": "meta_usage", "percent": 95, "count": 2, "account": "1002"})
    output = run_tap(sandbox.config("meta", rate_limit_max_wait_seconds=3600))
    assert sandbox.stats("meta").get("throttled", 0) == 0
    usage_pauses = [w for w in waits if w >= 30]  # (95 - 75 + 1) / 26 of a minute: about 48 s
    assert len(usage_pauses) == 2, waits
    _spend_matches(sandbox, output)
