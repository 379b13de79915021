"""Shop conditions over HTTP: frozen (402) and locked (423) shops, and a shop without Shopify Payments."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from bloom_sandbox.store.generate import THIRD_PARTY_GATEWAY, generate_store
from bloom_sandbox.testing import RunningSandbox, running_sandbox, sandbox_process
from conftest import NOW, control, gql, run, wait

FROZEN = (402, {"errors": "Unavailable Shop"})
LOCKED = (423, {"errors": "This shop is unavailable"})
PAYMENTS = """{ shopifyPaymentsAccount { id payouts(first: 5) { nodes { id } }
  balanceTransactions(first: 5) { nodes { id } } } }"""


@pytest.fixture(scope="module")
def no_payments() -> Iterator[RunningSandbox]:
    """A shop that does not use Shopify Payments (same seed and size as ``fresh``)."""
    with running_sandbox(seed=7, orders=400, now=NOW, bulk_scale=0.01, payments=False) as sandbox:
        yield sandbox


@pytest.mark.parametrize(("state", "answer"), [("frozen", FROZEN), ("locked", LOCKED)])
def test_a_frozen_or_locked_shop_answers_every_call_with_its_status(fresh, state, answer):
    fresh.world.shop_state = state
    assert gql(fresh, "{ shop { name } }") == answer
    assert gql(fresh, "mutation { bulkOperationRunQuery(query: \"{ products { edges { node { id } } } }\") "
                      "{ userErrors { message } } }") == answer  # fmt: skip
    assert gql(fresh, "{ shop { name } }", token="shpat_wrong")[0] == 401, "a bad token is still a 401"
    fresh.world.shop_state = "active"
    assert gql(fresh, "{ shop { name } }")[0] == 200
    _, stats = control(fresh, "GET", "stats")
    assert stats["shopify"]["shop_unavailable"] == 2


def test_shop_state_faults_count_down_and_clear(fresh):
    faults = [{"type": "shop_frozen", "count": 2}, {"type": "shop_locked", "always": True, "path": "/ignored"}]
    assert control(fresh, "POST", "faults", faults)[0] == 200
    assert [gql(fresh, "{ shop { name } }") for _ in range(3)] == [FROZEN, FROZEN, LOCKED]
    assert gql(fresh, "{ shop { name } }") == LOCKED, "always: until cleared"
    assert control(fresh, "DELETE", "faults")[0] == 200
    assert gql(fresh, "{ shop { name } }")[0] == 200


def test_a_revoked_token_answers_401_until_cleared(fresh):
    assert control(fresh, "POST", "faults", [{"type": "token_revoked", "always": True}])[0] == 200
    assert [gql(fresh, "{ shop { name } }")[0] for _ in range(2)] == [401, 401]
    assert control(fresh, "DELETE", "faults")[0] == 200
    assert gql(fresh, "{ shop { name } }")[0] == 200


def test_without_shopify_payments_the_account_is_null_without_errors(no_payments):
    status, body = gql(no_payments, PAYMENTS)
    assert status == 200
    assert "errors" not in body
    assert body["data"] == {"shopifyPaymentsAccount": None}
    status, body = gql(no_payments, '{ node(id: "gid://shopify/ShopifyPaymentsAccount/1") { id } }')
    assert (status, body["data"]) == (200, {"node": None})


def test_without_shopify_payments_a_bulk_payouts_query_has_no_data(no_payments):
    op = wait(no_payments, run(no_payments, "{ shopifyPaymentsAccount { payouts { edges { node { id } } } } }")[
        "bulkOperation"]["id"])  # fmt: skip
    assert (op["status"], op["objectCount"], op["url"]) == ("COMPLETED", "0", None)


def test_without_shopify_payments_cards_go_through_a_third_party_gateway(no_payments):
    store = no_payments.world.store
    with_payments = generate_store(7, 400, now=NOW)
    assert store.payouts == []
    assert store.balance_transactions == []
    assert [(o.id, o.total_price, o.processed_at) for o in store.orders] == [
        (o.id, o.total_price, o.processed_at) for o in with_payments.orders
    ], "the same orders, only the gateway differs"
    gateways = {t.gateway for o in store.orders for t in o.transactions}
    assert THIRD_PARTY_GATEWAY in gateways
    assert "shopify_payments" not in gateways
    assert all(t.fee == 0 for o in store.orders for t in o.transactions if t.gateway == THIRD_PARTY_GATEWAY)
    order = next(o for o in store.orders if any(t.gateway == THIRD_PARTY_GATEWAY for t in o.transactions))
    _, body = gql(no_payments, f'{{ order(id: "gid://shopify/Order/{order.id}") {{ transactions {{ gateway '
                               "formattedGateway fees { amount { amount } } } } }")  # fmt: skip
    served = [t for t in body["data"]["order"]["transactions"] if t["gateway"] == THIRD_PARTY_GATEWAY]
    assert served
    assert all(t["fees"] == [] and t["formattedGateway"] == "Stripe" for t in served)


def test_truth_of_a_shop_without_shopify_payments(no_payments):
    _, truth = control(no_payments, "GET", "truth")
    store = no_payments.world.store
    assert truth["shop"]["shopify_payments"] is False
    assert truth["counts"]["payouts"] == truth["counts"]["balance_transactions"] == 0
    assert truth["totals"]["payouts"] == "0.00"
    fees = sum(t.fee for o in store.orders if not o.test for t in o.transactions)
    assert Decimal(truth["totals"]["transaction_fees"]) == fees, "only PayPal fees are left"
    control(no_payments, "POST", "advance", {"days": 10})
    assert no_payments.world.store.payouts == []
    assert "shopify_payments" not in {t.gateway for o in no_payments.world.store.orders for t in o.transactions}
    status, body = gql(no_payments, PAYMENTS)
    assert (status, body["data"]) == (200, {"shopifyPaymentsAccount": None})


def test_the_shop_with_shopify_payments_says_so_in_its_truth(shared):
    _, truth = control(shared, "GET", "truth")
    assert truth["shop"]["shopify_payments"] is True


def test_cli_flags_for_shop_state_and_payments():
    with sandbox_process(orders=150, now="2026-11-28", shop_state="locked", payments=False) as sb:
        assert gql(sb, "{ shop { name } }") == LOCKED
        _, truth = control(sb, "GET", "truth")
        assert truth["shop"]["shopify_payments"] is False
        assert truth["counts"]["payouts"] == 0
