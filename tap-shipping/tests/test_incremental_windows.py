"""Which labels a run asks for: ShipStation's date filter in Pacific time, the trailing window
re-read exactly, and Shippo's newest-first paging stopped at the window start (sandbox over HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from math import ceil

import pytest
from bloom_sandbox.shipping import LabelBook
from tap_shipping.timezones import PACIFIC

from tests.helpers import run_tap, sandbox_config, sandbox_stats, sandbox_truth

LOOKBACK_DAYS = 5


def _generated(sandbox, provider: str) -> list:
    return LabelBook(sandbox.world.seed, sandbox.world.store).visible(provider)


@pytest.mark.parametrize("month", [2, 10], ids=["PST", "PDT"])
def test_shipstation_start_date_filter_is_sent_in_pacific_time(sandbox, tmp_path, month):
    """start_date is a UTC instant; ShipStation reads its filter as Pacific wall time. Starting 20 minutes
    before a label, exactly the labels created from then on come back: none lost to a 7-8 hour shift."""
    labels = _generated(sandbox, "shipstation")
    anchor = next(lb for lb in labels if lb.created_at.month == month and lb.created_at.year == 2026)
    start = (anchor.created_at - timedelta(minutes=20)).replace(microsecond=0)
    assert start.astimezone(PACIFIC).utcoffset() == timedelta(hours=-8 if month == 2 else -7)
    config = {k: v for k, v in sandbox_config(sandbox.url).items() if not k.startswith("shippo")}
    run = run_tap(
        tmp_path, config | {"start_date": start.isoformat().replace("+00:00", "Z")}, streams={"shipstation_shipments"}
    )
    assert run.returncode == 0, run.stderr
    got = {str(r["shipmentId"]) for r in run.records["shipstation_shipments"]}
    assert anchor.label_id in got
    assert got == {lb.label_id for lb in labels if lb.created_at >= start}


def test_second_run_rereads_exactly_the_trailing_window(sandbox, tmp_path):
    """After a full sync, the next run reads again every label created in the last lookback_days
    before the bookmark, and older labels only when voided within that window; Shippo, which cannot
    filter by time, stops paging at the first page reaching past the window start."""
    config = sandbox_config(sandbox.url, lookback_days=LOOKBACK_DAYS)
    first = run_tap(tmp_path / "1", config, streams={"shipping_labels"})
    assert first.returncode == 0, first.stderr
    before = sandbox_stats(sandbox.url)
    second = run_tap(tmp_path / "2", config, state=first.state, streams={"shipping_labels"})
    assert second.returncode == 0, second.stderr
    made = {p: sandbox_stats(sandbox.url)[p]["requests"] - before[p]["requests"] for p in ("shipstation", "shippo")}
    bookmarks = {
        p["context"]["provider"]: p["replication_key_value"]
        for p in first.state["bookmarks"]["shipping_labels"]["partitions"]
    }
    for provider in ("shipstation", "shippo"):
        since = datetime.fromisoformat(bookmarks[provider]).astimezone(UTC) - timedelta(days=LOOKBACK_DAYS)
        rows = [r for r in second.records["shipping_labels"] if r["provider"] == provider]
        recent = {r["label_id"] for r in rows if datetime.fromisoformat(r["created_at"]) >= since}
        generated = _generated(sandbox, provider)
        assert recent == {lb.label_id for lb in generated if lb.created_at >= since}, provider
        assert recent, provider
        older = [r for r in rows if datetime.fromisoformat(r["created_at"]) < since]
        assert all(r["voided"] and datetime.fromisoformat(r["voided_at"]) >= since for r in older), provider
    truth = sandbox_truth(sandbox.url)["shippo"]
    full_read = ceil(truth["labels"] / 100) + ceil(truth["voided"] / 100)
    old_shippo_voids = sum(
        1
        for r in second.records["shipping_labels"]
        if r["provider"] == "shippo"
        and datetime.fromisoformat(r["created_at"])
        < datetime.fromisoformat(bookmarks["shippo"]) - timedelta(days=LOOKBACK_DAYS)
    )
    # The credential check, one page of transactions, one of refunds, one fetch per older voided label.
    assert made["shippo"] == 3 + old_shippo_voids < full_read + 1, (made, full_read)
