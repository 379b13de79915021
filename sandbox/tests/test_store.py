"""The generated store: deterministic, realistic proportions, payouts consistent, advance moves it."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from bloom_sandbox.store.generate import advance_store, generate_store
from bloom_sandbox.store.model import Store
from conftest import NOW


@pytest.fixture(scope="module")
def store() -> Store:
    return generate_store(42, 3000, now=NOW)


def fingerprint(store: Store) -> list[tuple]:
    return [(o.id, o.processed_at, o.updated_at, o.total_price, o.total_refunded, o.customer_id) for o in store.orders]


def test_same_seed_same_store_other_seed_other_store(store):
    assert fingerprint(generate_store(42, 3000, now=NOW)) == fingerprint(store)
    assert fingerprint(generate_store(43, 3000, now=NOW)) != fingerprint(store)


def test_history_spans_the_months_before_now(store):
    assert len(store.orders) == 3000
    assert store.history_start.year == 2024
    assert store.history_start.month == 11
    assert min(o.processed_at for o in store.orders) >= store.history_start - timedelta(hours=6)
    assert max(o.created_at for o in store.orders) <= NOW
    months = {(o.processed_at.year, o.processed_at.month) for o in store.orders}
    assert len(months) >= 24
    assert store.shop.iana_timezone != "UTC"
    assert store.shop.currency == "USD"


def test_realistic_proportions(store):
    orders = store.orders
    n = len(orders)
    assert 0.003 * n <= sum(o.test for o in orders) <= 0.025 * n
    assert 0.005 * n <= sum(o.cancelled_at is not None for o in orders) <= 0.04 * n
    refunded = [o for o in orders if o.refunds and o.cancelled_at is None]
    assert 0.04 * n <= len(refunded) <= 0.15 * n
    assert any(o.total_refunded < o.total_price for o in refunded), "partial refunds"
    assert any(o.total_refunded == o.total_price for o in refunded), "full refunds"
    assert Counter(o.presentment_currency for o in orders).keys() >= {"USD", "CAD", "EUR"}
    assert any(li.is_gift_card for o in orders for li in o.line_items)
    assert sum(li.discount > 0 for o in orders for li in o.line_items) > 0.1 * n
    assert sum(len(o.line_items) > 1 for o in orders) > 0.3 * n
    customers = Counter(o.customer_id for o in orders if o.customer_id)
    assert sum(c > 1 for c in customers.values()) > 0.1 * len(customers), "repeat customers"
    variants = [v for p in store.products for v in p.variants]
    assert any(v.compare_at_price for v in variants)
    assert all(v.unit_cost is None for v in variants if "GC-" in v.sku)
    gateways = Counter(t.gateway for o in orders for t in o.transactions)
    assert gateways["shopify_payments"] > gateways["paypal"] > 0
    assert gateways["manual"] > 0
    shipped = [o for o in orders if any(li.requires_shipping for li in o.line_items) and not o.cancelled_at]
    assert sum(bool(o.fulfillments) for o in shipped) > 0.9 * len(shipped)
    assert all(f.carrier and f.tracking_number for o in orders for f in o.fulfillments)


def test_cancellations_refund_everything_on_the_cancel_day(store):
    cancelled = [o for o in store.orders if o.cancelled_at is not None]
    assert cancelled
    for order in cancelled:
        assert [r.processed_at for r in order.refunds] == [order.cancelled_at]
        assert order.total_refunded == order.total_price
        assert all(rli.restock_type == "CANCEL" for rli in order.refunds[0].line_items)


def test_refunds_come_days_after_the_order(store):
    late = [r for o in store.orders if o.cancelled_at is None for r in o.refunds]
    assert late
    assert min((r.processed_at - store.orders[r.order_id - 1].processed_at).days for r in late) >= 2


def test_shopify_payments_fees_and_payouts(store):
    for order in store.orders[:500]:
        for t in order.transactions:
            if t.gateway == "shopify_payments" and t.kind in ("SALE", "CAPTURE") and t.status == "SUCCESS":
                expected = (t.amount * Decimal("0.029") + Decimal("0.30")).quantize(Decimal("0.01"), ROUND_HALF_UP)
                assert t.fee == expected
    by_payout: dict[int, Decimal] = {}
    for b in store.balance_transactions:
        assert b.net == b.amount - b.fee
        if b.payout_id is not None:
            by_payout[b.payout_id] = by_payout.get(b.payout_id, Decimal(0)) + b.net
    assert len(store.payouts) > 100
    for payout in store.payouts:
        assert payout.net == by_payout[payout.id] == payout.gross - payout.fee
    gaps = [(b.issued_at - a.issued_at).days for a, b in zip(store.payouts, store.payouts[1:], strict=False)]
    assert max(gaps) <= 9
    assert min(gaps) >= 3
    recent = [b for b in store.balance_transactions if b.transaction_date > NOW.replace(day=26)]
    assert recent
    assert all(b.payout_id is None for b in recent), "the last days are not paid out yet"


def test_advance_adds_and_updates_objects():
    store = generate_store(5, 600, now=NOW)
    before = {o.id: o.updated_at for o in store.orders}
    customers, products = len(store.customers), len(store.products)
    advance_store(store, 10, seed=5)
    assert (store.now - NOW).days == 10
    new = [o for o in store.orders if o.id not in before]
    assert new
    assert all(NOW < o.created_at <= store.now for o in new)
    assert [o.number for o in store.orders] == sorted(o.number for o in store.orders)
    assert len(store.customers) > customers
    assert len(store.products) >= products
    updated = [o for o in store.orders if o.id in before and o.updated_at > before[o.id]]
    assert updated
    assert all(NOW < o.updated_at <= store.now for o in updated)
    assert any(o.fulfillments and o.fulfillments[-1].created_at > NOW for o in updated)
    assert max(p.issued_at for p in store.payouts) > NOW


def test_advance_is_deterministic():
    a, b = generate_store(5, 300, now=NOW), generate_store(5, 300, now=NOW)
    advance_store(a, 4, seed=5)
    advance_store(b, 4, seed=5)
    assert fingerprint(a) == fingerprint(b)


def test_orders_peak_at_the_holidays(store):
    by_month = Counter(o.processed_at.month for o in store.orders if o.processed_at.year == 2025)
    assert by_month[12] > by_month[10] > by_month[1]
