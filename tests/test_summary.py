"""The demo's profit summary: its last days end on each shop's today, not on the newest report row."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date

import psycopg
import pytest

from bloom_suite.summary import read_summary

PG_HOST = os.environ.get("BLOOM_TEST_PG_HOST", "127.0.0.1")
PG_PORT = os.environ.get("BLOOM_TEST_PG_PORT", "5432")
ADMIN = f"host={PG_HOST} port={PG_PORT} user=postgres dbname=postgres"


@pytest.fixture
def warehouse() -> Iterator[str]:
    """A scratch database with a New York and a Tokyo shop, each with report rows from 11-01 to 12-10."""
    database = f"bloom_summary_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'create database "{database}"')
    dsn = f"host={PG_HOST} port={PG_PORT} user=postgres dbname={database}"
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("""
                create schema reports;
                create schema raw_shopify;
                create table raw_shopify.shop (shop text, iana_timezone text);
                insert into raw_shopify.shop values ('ny', 'America/New_York'), ('tokyo', 'Asia/Tokyo');
                create table reports.profit_daily (shop text, date date, orders int, net_sales numeric,
                    cogs numeric, ad_spend numeric, shipping_costs numeric, net_profit numeric);
                insert into reports.profit_daily
                select shop, day::date, 1, 10, 4, 2, 1, 3
                from unnest(array['ny', 'tokyo']) as shop,
                    generate_series(date '2026-11-01', date '2026-12-10', interval '1 day') as day;
            """)
        yield dsn
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{database}" with (force)')


def test_the_last_days_end_on_each_shops_today(warehouse: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # 03:00 UTC on 12-07: still 12-06 in New York, already 12-07 in Tokyo. Rows after that
    # (a report built as of a later time) are left out.
    monkeypatch.setenv("BLOOM_REPORTS_AS_OF", "2026-12-07T03:00:00Z")
    summaries = {summary.shop: summary for summary in read_summary(warehouse, 30)}
    assert (summaries["ny"].first_day, summaries["ny"].last_day) == (date(2026, 11, 7), date(2026, 12, 6))
    assert (summaries["tokyo"].first_day, summaries["tokyo"].last_day) == (date(2026, 11, 8), date(2026, 12, 7))
    assert summaries["ny"].figures["orders"] == 30
    assert summaries["ny"].figures["net_profit"] == 90
