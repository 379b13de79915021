"""The runner's record of the history each source still owes (``bloom_suite/history.py``)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from bloom_suite.history import HistoryBook, record_pending

PG_HOST = os.environ.get("BLOOM_TEST_PG_HOST", "127.0.0.1")
PG_PORT = os.environ.get("BLOOM_TEST_PG_PORT", "5432")
ADMIN = f"host={PG_HOST} port={PG_PORT} user=postgres dbname=postgres"

ORDERS = (
    'HISTORY: {"stream": "orders", "shop": "demo", "platform": null, "account_id": null, "months": 25, '
    '"months_pending": PENDING, "pending_from": null, "pending_to": "2026-11-30T12:00:00Z"}'
)
META = (
    'HISTORY: {"stream": "ad_spend_daily", "shop": null, "platform": "meta", "account_id": "act_1", '
    '"months": 25, "months_pending": 0, "pending_from": null, "pending_to": null}'
)


@pytest.fixture
def warehouse() -> Iterator[str]:
    database = f"bloom_history_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'create database "{database}"')
    try:
        yield f"host={PG_HOST} port={PG_PORT} user=postgres dbname={database}"
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{database}" with (force)')


def test_the_last_line_of_a_job_per_key_is_what_it_owes(warehouse: str) -> None:
    book = HistoryBook()
    assert not book.note("sync-shopify", "tap-shopify-bloom", "Beginning incremental sync of 'orders'...")
    assert book.note("sync-shopify", "tap-shopify-bloom", ORDERS.replace("PENDING", "25"))
    assert book.note("sync-shopify", "tap-shopify-bloom", ORDERS.replace("PENDING", "24"))
    assert not book.note("sync-shopify", "tap-shopify-bloom", 'HISTORY: {"stream": "orders"}')  # no months_pending
    assert book.note("sync-ads", "tap-adplatforms", META)
    (orders,) = book.of("sync-shopify")
    assert (orders.shop, orders.months, orders.months_pending, orders.loaded) == ("demo", 25, 24, 1)
    assert (orders.pending_from, orders.pending_to) == (None, "2026-11-30T12:00:00Z")

    record_pending({"conninfo": warehouse}, book.of("sync-shopify"))
    record_pending({"conninfo": warehouse}, book.of("sync-ads"))
    later = HistoryBook()
    later.note(
        "sync-shopify", "tap-shopify-bloom", ORDERS.replace("PENDING", "0").replace('"2026-11-30T12:00:00Z"', "null")
    )
    record_pending({"conninfo": warehouse}, later.of("sync-shopify"))  # a later run replaces the row
    with psycopg.connect(warehouse) as conn:
        rows = conn.execute(
            "select plugin, stream, shop, platform, account_id, months, months_pending, pending_from, pending_to"
            " from bloom_sync.source_history order by plugin"
        ).fetchall()
    assert rows == [
        ("tap-adplatforms", "ad_spend_daily", "", "meta", "act_1", 25, 0, None, None),
        ("tap-shopify-bloom", "orders", "demo", "", "", 25, 0, None, None),
    ]
