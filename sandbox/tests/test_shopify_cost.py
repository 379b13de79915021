"""Query cost as Shopify computes it, the leaky bucket per plan, THROTTLED and MAX_COST_EXCEEDED."""

from __future__ import annotations

import pytest
from bloom_sandbox.shopify.throttle import LeakyBucket
from bloom_sandbox.testing import running_sandbox
from conftest import NOW, control, gql


@pytest.mark.parametrize(("first", "cost"), [(1, 3), (10, 6), (50, 9), (100, 11), (250, 13)])
def test_connection_cost_follows_the_observed_formula(shared, first, cost):
    _, body = gql(shared, f"{{ orders(first: {first}) {{ nodes {{ id name }} }} }}")
    assert body["extensions"]["cost"]["requestedQueryCost"] == cost


def test_objects_cost_one_money_and_scalars_nothing_counts_ten(shared):
    _, body = gql(shared, "{ shop { name plan { publicDisplayName } } }")
    assert body["extensions"]["cost"]["requestedQueryCost"] == 2  # shop + plan
    _, body = gql(shared, "{ orders(first: 1) { nodes { totalPriceSet { shopMoney { amount } } } } }")
    assert body["extensions"]["cost"]["requestedQueryCost"] == 3  # money objects are free
    _, body = gql(shared, "{ ordersCount { count } }")
    assert body["extensions"]["cost"]["requestedQueryCost"] == 10
    _, body = gql(shared, "{ orders(first: 10) { nodes { id lineItems(first: 10) { nodes { id } } } } }")
    assert body["extensions"]["cost"]["requestedQueryCost"] == 2 + 4 * (1 + 2 + 4 * 1)


def test_actual_cost_counts_what_came_back(shared):
    _, body = gql(shared, '{ orders(first: 250, query: "test:true") { nodes { id } } }')
    returned = len(body["data"]["orders"]["nodes"])
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 13
    assert 0 < returned < 50
    assert cost["actualQueryCost"] < cost["requestedQueryCost"]
    status = cost["throttleStatus"]
    assert status["maximumAvailable"] == 2000.0
    assert status["restoreRate"] == 100.0


def test_over_1000_points_is_max_cost_exceeded(shared):
    deep = "orders(first: 250) { nodes { id lineItems(first: 250) { nodes { id variant { id product { id } } } } } }"
    _, body = gql(shared, "{ a: " + deep + " b: " + deep + " c: " + deep + " }")  # 3 x 398 points
    assert "data" not in body
    error = body["errors"][0]
    assert error["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert error["extensions"]["maxCost"] == 1000
    assert error["extensions"]["cost"] == body["extensions"]["cost"]["requestedQueryCost"] > 1000
    assert body["extensions"]["cost"]["actualQueryCost"] is None


def counts_query(n: int) -> str:
    return "{ " + " ".join(f"c{i}: ordersCount {{ count }}" for i in range(n)) + " }"


def test_draining_the_bucket_gives_throttled(fresh):
    bodies = [gql(fresh, counts_query(99))[1] for _ in range(3)]  # 990 points each, all of them used
    assert bodies[0]["extensions"]["cost"]["actualQueryCost"] == 990
    throttled = bodies[2]
    assert "data" not in throttled
    assert throttled["errors"] == [
        {
            "message": "Throttled",
            "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
        }
    ]
    cost = throttled["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 990
    assert cost["actualQueryCost"] is None
    assert cost["throttleStatus"]["currentlyAvailable"] < 990
    _, stats = control(fresh, "GET", "stats")
    assert stats["shopify"]["throttled"] == 1


def test_plans_set_restore_rate_and_bucket():
    with running_sandbox(seed=1, orders=50, now=NOW, plan="plus") as sandbox:
        _, body = gql(sandbox, "{ shop { name } }")
        status = body["extensions"]["cost"]["throttleStatus"]
        assert status["restoreRate"] == 1000.0
        assert status["maximumAvailable"] == 20000.0
        bodies = [gql(sandbox, counts_query(99))[1] for _ in range(5)]
        assert all("data" in b for b in bodies), "a Plus bucket holds 20,000 points"


def test_throttled_fault_answers_throttled_without_spending(fresh):
    control(fresh, "POST", "faults", [{"type": "throttled", "count": 2}])
    for _ in range(2):
        _, body = gql(fresh, "{ shop { name } }")
        assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
        assert body["extensions"]["cost"]["actualQueryCost"] is None
    _, body = gql(fresh, "{ shop { name } }")
    assert body["data"]["shop"]["name"]


def test_bucket_refills_at_the_restore_rate():
    clock = [0.0]
    bucket = LeakyBucket(100.0, clock=lambda: clock[0])
    assert bucket.take(2000)
    assert not bucket.take(1)
    clock[0] = 1.5
    assert bucket.status()["currentlyAvailable"] == 150
    assert bucket.take(150)
    bucket.give_back(40)
    assert bucket.status()["currentlyAvailable"] == 40
    clock[0] = 1000
    assert bucket.status()["currentlyAvailable"] == 2000
