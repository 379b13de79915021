"""Every column of shipping_labels against the labels the sandbox generated (sandbox over HTTP).

The cost tests compare sums per order; this one compares each label: its order, carrier,
costs, void and its time, creation time, ship date and tracking number.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bloom_sandbox.shipping import LabelBook
from tap_shipping.timezones import PACIFIC

from tests.helpers import latest_labels, run_tap, sandbox_config


def _ms(moment: datetime) -> datetime:
    """An instant to the millisecond, as both APIs write times."""
    return moment.astimezone(UTC).replace(microsecond=moment.microsecond // 1000 * 1000)


def _ambiguous(moment: datetime) -> bool:
    """Whether the instant falls in the Pacific hour repeated when daylight saving time ends."""
    local = moment.astimezone(PACIFIC)
    return local.fold == 1 or local.replace(fold=1).utcoffset() != local.utcoffset()


def test_each_label_row_matches_the_generated_label(sandbox, tmp_path):
    run = run_tap(tmp_path, sandbox_config(sandbox.url), streams={"shipping_labels"})
    assert run.returncode == 0, run.stderr
    labels = latest_labels(run)
    book = LabelBook(sandbox.world.seed, sandbox.world.store)
    now = sandbox.world.store.now
    checked = {"shipstation": 0, "shippo": 0}
    for provider in checked:
        generated = {lb.label_id: lb for lb in book.visible(provider)}
        rows = {label_id: row for (kind, label_id), row in labels.items() if kind == provider}
        assert rows.keys() == generated.keys(), provider
        for label_id, row in rows.items():
            want = generated[label_id]
            shift = timedelta(hours=-1) if provider == "shipstation" and _ambiguous(want.created_at) else None
            created = datetime.fromisoformat(row["created_at"])
            assert created == _ms(want.created_at) or (shift and created == _ms(want.created_at) + shift), row
            assert (row["order_ref"] == want.order.name) == want.matched, row
            if want.matched:
                assert row["order_ref_match"] == ("order_number" if provider == "shipstation" else "metadata")
            assert row["carrier"] == want.carrier, row
            assert row["currency"] == want.currency, row
            assert row["tracking_number"] == want.tracking_number, row
            paid = Decimal(row["label_cost"]) + Decimal(row["insurance_cost"]) + Decimal(row["other_fees"])
            assert paid == want.cost + want.insurance, row
            assert row["voided"] == want.voided_by(now), row
            if want.voided_by(now):
                assert want.voided_at is not None
                voided_at = datetime.fromisoformat(row["voided_at"])
                void_shift = provider == "shipstation" and _ambiguous(want.voided_at)
                assert voided_at == _ms(want.voided_at) or (
                    void_shift and voided_at == _ms(want.voided_at) - timedelta(hours=1)
                ), row
            else:
                assert row["voided_at"] is None, row
            if provider == "shipstation":
                assert row["ship_date"] == want.ship_date.isoformat(), row
                assert row["insurance_cost"] == str(want.insurance.quantize(Decimal("0.01"))), row
            checked[provider] += 1
    assert min(checked.values()) > 100
