"""The cost bucket waits exactly as long as the bucket needs; pages fit the budget."""

from __future__ import annotations

import pytest
from tap_shopify_bloom.cost import requested_cost
from tap_shopify_bloom.throttle import CostBucket, PageSizer, connection_factor


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def status(available, maximum=2000, rate=100, actual=10):
    return {
        "requestedQueryCost": 50,
        "actualQueryCost": actual,
        "throttleStatus": {"maximumAvailable": maximum, "currentlyAvailable": available, "restoreRate": rate},
    }


def test_waits_exactly_for_the_missing_points():
    clock = FakeClock()
    bucket = CostBucket(clock=clock, sleep=clock.sleep)
    bucket.observe(status(available=30))
    assert bucket.wait_for(80) == pytest.approx(0.5)  # 50 points missing at 100/s
    clock.now += 10
    assert bucket.wait_for(80) == 0.0  # refilled meanwhile
    assert clock.slept == [pytest.approx(0.5)]
    assert bucket.points_spent == 10


def test_refill_is_capped_at_the_maximum():
    clock = FakeClock()
    bucket = CostBucket(clock=clock, sleep=clock.sleep)
    bucket.observe(status(available=0, maximum=100, rate=50))
    clock.now += 3600
    assert bucket.wait_for(150) == 0.0  # a cost above the maximum waits only for a full bucket


def test_connection_factor_matches_observed_costs():
    assert [2 + connection_factor(n) for n in (1, 10, 50, 100, 250)] == [3, 6, 9, 11, 13]


def test_page_sizer_shrinks_expensive_pages_and_grows_cheap_ones():
    sizer = PageSizer(size=100, budget=500)
    sizer.adapt(requested_cost=900, used_size=100, bucket_maximum=2000)
    assert sizer.size < 100
    assert sizer.expected_cost <= 500
    cheap = PageSizer(size=10, budget=500)
    sizes = [cheap.adapt(requested_cost=6, used_size=cheap.size, bucket_maximum=2000) for _ in range(6)]
    assert sizes == [20, 40, 80, 160, 250, 250]  # one doubling per answer, up to Shopify's 250
    assert cheap.shrink() == 125


def test_page_sizer_respects_a_small_bucket():
    sizer = PageSizer(size=50, budget=500)
    sizer.adapt(requested_cost=2 + 7 * 20, used_size=50, bucket_maximum=100)  # node cost 20
    assert sizer.expected_cost <= 50  # at most half the bucket per page


def test_expected_cost_never_underestimates_a_smaller_page():
    # Shopify prices a page at 2 + g(first) x node; after a large page the sizer shrinks.
    sizer = PageSizer(size=250, budget=200)
    sizer.adapt(2 + connection_factor(250) * 40, 250, 2000)
    assert sizer.size < 250
    assert sizer.expected_cost >= 2 + connection_factor(sizer.size) * 40


def test_first_request_of_a_query_is_bounded_from_its_text():
    # Shopify's sizing, erring high: a connection of 10 nodes, each an object with one money bag.
    query = (
        "query Q($first: Int!) { orders(first: $first) { pageInfo { hasNextPage } "
        "nodes { id customer { id } totalPriceSet { shopMoney { amount currencyCode } } } } }"
    )
    assert requested_cost(query, {"first": 10}) == 2 + connection_factor(10) * 2
    assert requested_cost("query C { ordersCount { count } }") == 10
    assert requested_cost('mutation M { bulkOperationRunQuery(query: "") { userErrors { code } } }') == 12


def test_a_throttled_answer_waits_for_the_points_it_lacked_or_a_pause():
    clock = FakeClock()
    bucket = CostBucket(clock=clock, sleep=clock.sleep)
    bucket.observe(status(available=70, actual=None))  # a THROTTLED answer: 10 of 80 points missing
    bucket.refused(80)
    assert bucket.wait_for(80) == pytest.approx(0.1)  # exactly the missing points at 100/s, no pause
    bucket.observe(status(available=2000, actual=None))  # THROTTLED although the bucket is full
    bucket.refused(80)
    assert bucket.wait_for(80) == bucket.throttled_pause  # no hot loop ...
    assert bucket.wait_for(80) == 0.0  # ... and only once
    assert bucket.throttled == 2
