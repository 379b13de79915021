from tests.factories import order
from tests.helpers import run_sync


def test_orders_first_sync(stub, stub_config):
    stub.data["orders"] = [order(1000 + i, days) for i, days in enumerate([1, 3, 20, 50, 100, 140])]
    result = run_sync(stub_config, streams=["orders"])
    ids = [r["id"] for r in result.records["orders"]]
    assert sorted(ids) == sorted(o["id"] for o in stub.data["orders"])
    print(result.state)
