"""Order references, money and ShipStation's Pacific times, unit by unit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests
from tap_shipping.normalize import money, order_ref_from_metadata, order_ref_from_number
from tap_shipping.rate_limit import RateGate
from tap_shipping.timezones import pacific_to_utc, utc_to_pacific


@pytest.mark.parametrize(
    ("order_number", "expected"),
    [
        ("1001", ("#1001", "order_number")),
        ("#1001", ("#1001", "order_number")),
        ("1001-2", ("#1001", "order_number")),
        (" 1001 ", ("#1001", "order_number")),
        ("M12345", (None, "none")),
        ("", (None, "none")),
        (None, (None, "none")),
    ],
)
def test_order_ref_from_shipstation_order_number(order_number, expected):
    assert order_ref_from_number(order_number) == expected


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ("Order #1001", ("#1001", "metadata")),
        ("#1001", ("#1001", "metadata")),
        ("order: #77", ("#77", "metadata")),
        ("1001", ("#1001", "metadata")),
        ("", (None, "none")),
        (None, (None, "none")),
        ("Customer ID 123456", (None, "none")),
    ],
)
def test_order_ref_from_shippo_metadata(metadata, expected):
    assert order_ref_from_metadata(metadata) == expected


def test_money_is_a_cent_string():
    assert money(1.93) == "1.93"
    assert money("5.5") == "5.50"
    assert money(0) == money(None) == "0.00"
    assert money(0.1 + 0.2) == "0.30"


@pytest.mark.parametrize(
    ("pacific", "utc"),
    [
        ("2014-10-03T06:51:33.627", datetime(2014, 10, 3, 13, 51, 33, 627000, UTC)),  # PDT, -7
        ("2025-01-15T23:30:00", datetime(2025, 1, 16, 7, 30, tzinfo=UTC)),  # PST, -8, next UTC day
        ("2025-03-09T01:59:59.9", datetime(2025, 3, 9, 9, 59, 59, 900000, UTC)),  # last PST second
        ("2025-03-09T03:00:00", datetime(2025, 3, 9, 10, 0, tzinfo=UTC)),  # first PDT second
        ("2025-11-02T00:59:59", datetime(2025, 11, 2, 7, 59, 59, tzinfo=UTC)),  # before the repeated hour
        ("2025-11-02T01:30:00", datetime(2025, 11, 2, 8, 30, tzinfo=UTC)),  # repeated hour: the earlier (PDT)
        ("2025-11-02T02:00:00", datetime(2025, 11, 2, 10, 0, tzinfo=UTC)),  # PST again
        ("2025-06-01T12:00:00.1234567", datetime(2025, 6, 1, 19, 0, 0, 123456, UTC)),  # 7 digits (.NET ticks)
        ("2025-06-01 12:00:00", datetime(2025, 6, 1, 19, 0, tzinfo=UTC)),
    ],
)
def test_pacific_to_utc_across_daylight_saving(pacific, utc):
    assert pacific_to_utc(pacific) == utc


def test_utc_to_pacific_filter():
    assert utc_to_pacific(datetime(2025, 7, 1, 6, 0, tzinfo=UTC)) == "2025-06-30 23:00:00"
    assert utc_to_pacific(datetime(2025, 12, 1, 6, 0, tzinfo=UTC)) == "2025-11-30 22:00:00"


def test_pacific_to_utc_refuses_other_formats():
    with pytest.raises(ValueError, match="not a ShipStation timestamp"):
        pacific_to_utc("10/3/2014 6:51:33 AM")


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def answer(remaining: str, reset: str) -> requests.Response:
    response = requests.Response()
    response.headers["X-Rate-Limit-Remaining"] = remaining
    response.headers["X-Rate-Limit-Reset"] = reset
    return response


def test_rate_gate_waits_for_the_reset_only_when_the_budget_is_spent():
    clock = FakeClock()
    gate = RateGate(clock=clock, sleep=clock.sleep)
    gate.before_request()
    gate.observe(answer("1", "30"))
    gate.before_request()
    assert clock.slept == []
    gate.observe(answer("0", "12"))
    gate.before_request()
    assert clock.slept == [pytest.approx(12.05)]
    gate.before_request()  # the reset has passed: the budget is unknown until the next answer
    assert len(clock.slept) == 1


def test_rate_gate_sends_a_minutes_budget_at_once_then_keeps_to_it_over_any_rolling_minute():
    clock = FakeClock()
    gate = RateGate.per_minute(10, clock=clock, sleep=clock.sleep)
    sent = []
    for _ in range(25):
        gate.before_request()
        sent.append(clock.now - 100.0)  # seconds since the first
        clock.now += 1.0  # the request took a second
    assert sent[:10] == [float(i) for i in range(10)]  # the first ten without a wait
    assert sent[10] == pytest.approx(61.2)  # the eleventh a minute (and the margin) after the first
    assert max(sum(1 for at in sent if start <= at < start + 60) for start in sent) == 10
    assert sent[-1] == pytest.approx(2 * 61.2 + 4)  # 25 requests: two full windows and five more


def test_rate_gate_with_a_burst_of_one_spaces_requests_evenly():
    clock = FakeClock()
    gate = RateGate.per_minute(10, burst=1, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        gate.before_request()
        clock.now += 1.0  # the request took a second
    assert clock.slept == [pytest.approx(5.12), pytest.approx(5.12)]  # 6 s apart (and the margin)


def test_rate_gate_below_one_a_minute_stretches_the_window():
    clock = FakeClock()
    gate = RateGate.per_minute(0.5, clock=clock, sleep=clock.sleep)
    gate.before_request()
    gate.before_request()
    assert clock.slept == [pytest.approx(122.4)]
