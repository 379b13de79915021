"""Labels derived from the store: deterministic, plausible, and the truth computed from them."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from bloom_sandbox.shipping.labels import LabelBook, labels_for_order
from bloom_sandbox.store.generate import advance_store, generate_store

NOW = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def store():
    return generate_store(42, 1500, now=NOW)


def test_labels_are_deterministic(store):
    again = generate_store(42, 1500, now=NOW)
    first = [(lb.label_id, lb.cost, lb.created_at, lb.voided_at) for lb in LabelBook(42, store).all()]
    second = [(lb.label_id, lb.cost, lb.created_at, lb.voided_at) for lb in LabelBook(42, again).all()]
    assert first == second
    assert len({label_id for label_id, *_ in first}) == len(first)  # ids are unique


def test_labels_follow_fulfilled_orders(store):
    book = LabelBook(42, store)
    labels = book.all()
    per_order = Counter(lb.order.id for lb in labels)
    fulfilled = [o for o in store.orders if o.fulfillments and not o.test]
    assert all(lb.order.fulfillments and not lb.order.test for lb in labels)
    assert all(lb.created_at <= store.now for lb in labels)  # bought before their fulfilment
    without = [o for o in fulfilled if o.id not in per_order]
    assert 0 < len(without) < 0.15 * len(fulfilled)  # some orders shipped outside both tools
    assert any(count > 1 for count in per_order.values())  # several labels for some orders
    providers = {lb.order.id: lb.provider for lb in labels}
    assert set(providers.values()) == {"shipstation", "shippo"}
    assert sum(1 for lb in labels if lb.voided_by(store.now)) > 0
    assert any(not lb.matched for lb in labels)  # a few references that name no order


def test_split_between_providers_depends_on_the_seed():
    other = generate_store(5, 600, now=NOW)
    share = {
        seed: Counter(lb.provider for o in s.orders for lb in labels_for_order(seed, o, "USD"))
        for seed, s in ((5, other), (42, generate_store(42, 600, now=NOW)))
    }
    ratios = {seed: c["shipstation"] / sum(c.values()) for seed, c in share.items()}
    assert ratios[5] != pytest.approx(ratios[42], abs=0.01)


def test_truth_is_the_sum_of_non_voided_labels(store):
    book = LabelBook(42, store)
    for provider in ("shipstation", "shippo"):
        truth = book.truth(provider)
        expected: dict[str, Decimal] = defaultdict(Decimal)
        for lb in book.all():
            if lb.provider == provider and lb.matched:
                expected[lb.order.name] += Decimal(0) if lb.voided_by(store.now) else lb.cost + lb.insurance
        assert {k: Decimal(v) for k, v in truth["label_cost_by_order"].items()} == expected
        assert truth["labels"] == sum(1 for lb in book.all() if lb.provider == provider)
        assert truth["currency"] == store.shop.currency


def test_advancing_reveals_voids_and_new_labels_without_changing_old_ones():
    store = generate_store(9, 600, months=6, now=NOW)
    book = LabelBook(9, store)
    before = {lb.label_id: lb for lb in book.all()}
    voided_before = {p: book.truth(p)["voided"] for p in ("shipstation", "shippo")}
    pending = [lb for lb in before.values() if lb.voided_at and lb.voided_at > store.now]
    advance_store(store, 14, 9)
    after = {lb.label_id: lb for lb in book.all()}
    assert set(before) < set(after)  # new orders were fulfilled and labelled
    for label_id, label in before.items():
        assert (after[label_id].cost, after[label_id].created_at) == (label.cost, label.created_at)
    assert pending
    assert all(after[lb.label_id].voided_by(store.now) for lb in pending if lb.voided_at <= store.now)
    assert sum(book.truth(p)["voided"] for p in voided_before) > sum(voided_before.values())


def test_shelves_index_what_is_visible_at_each_clock_time():
    store = generate_store(9, 600, months=6, now=NOW)
    book = LabelBook(9, store)
    for _ in range(2):  # before and after the clock moves, with the same book
        for provider in ("shipstation", "shippo"):
            shelf = book.shelf(provider)
            mine = [lb for lb in book.all() if lb.provider == provider and lb.created_at <= store.now]
            assert shelf.labels == mine
            assert shelf.created == [lb.created_at for lb in mine]
            assert [lb.label_id for lb in shelf.voided] == [
                lb.label_id
                for lb in sorted(mine, key=lambda lb: (lb.voided_at or NOW, lb.label_id), reverse=True)
                if lb.voided_by(store.now)
            ]  # latest void first
            assert all(shelf.by_id[lb.label_id] is lb for lb in mine)
        advance_store(store, 14, 9)
