"""The demo's profit summary: its last days end on each shop's today, not on the newest report row."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date

import psycopg
import pytest

from bloom_suite.summary import format_summary, read_summary

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
                    shipping_charged numeric, cogs numeric, shipping_costs numeric,
                    unattributed_shipping_costs numeric, handling numeric, transaction_fees numeric,
                    third_party_transaction_fees numeric, ad_spend numeric, operating_expenses numeric,
                    cm1 numeric, cm2 numeric, net_profit numeric, net_sales_with_cost_recorded numeric);
                -- A day: net sales 10, COGS 4 (cm1 6), shipping charged 1.50 counted in CM2, costs
                -- 0.50 + 0.25 + 0.25 + 0.20 + 0.10 (cm2 6.20), ad spend 2, operating expenses 1.20:
                -- net profit 3.00; 8 of the 10 of net sales have a unit cost.
                insert into reports.profit_daily
                select shop, day::date, 1, 10, 1.50, 4, 0.50, 0.25, 0.25, 0.20, 0.10, 2, 1.20, 6, 6.20, 3, 8
                from unnest(array['ny', 'tokyo']) as shop,
                    generate_series(date '2026-11-01', date '2026-12-10', interval '1 day') as day;
                create table reports.sync_history (shop text, source text, is_complete boolean,
                    months_loaded int, months int);
                -- New York's history is still loading; Tokyo's is in.
                insert into reports.sync_history values ('ny', 'shipping', false, 4, 24),
                    ('ny', 'shopify', false, 3, 25), ('ny', 'ads', true, 25, 25), ('tokyo', 'shopify', true, 25, 25);
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
    assert dict(summaries["ny"].lines())["net_profit"] == 90


def test_the_lines_add_up_to_net_profit_and_missing_costs_are_flagged(warehouse: str, monkeypatch) -> None:
    monkeypatch.setenv("BLOOM_REPORTS_AS_OF", "2026-12-07T03:00:00Z")
    (ny,) = [summary for summary in read_summary(warehouse, 30) if summary.shop == "ny"]
    lines = dict(ny.lines())
    assert list(lines) == [
        "net_sales", "cogs", "shipping_charged", "shipping_costs", "unattributed_shipping_costs", "handling",
        "transaction_fees", "third_party_transaction_fees", "ad_spend", "operating_expenses", "net_profit",
    ]  # fmt: skip
    assert lines["net_profit"] == sum(amount for name, amount in lines.items() if name != "net_profit")
    assert lines["net_profit"] == ny.figures["cm2"] - ny.figures["ad_spend"] - ny.figures["operating_expenses"] == 90
    text = format_summary([ny], 30)
    assert "  shipping charged" in text
    assert "warning: 60.00 of net sales (20.0%) sold without a unit cost" in text


def test_shipping_charged_is_left_out_when_cm2_leaves_it_out(warehouse: str, monkeypatch) -> None:
    monkeypatch.setenv("BLOOM_REPORTS_AS_OF", "2026-12-07T03:00:00Z")
    with psycopg.connect(warehouse, autocommit=True) as conn:
        conn.execute("update reports.profit_daily set cm2 = cm2 - 1.50, net_profit = net_profit - 1.50,"
                     " net_sales_with_cost_recorded = net_sales")  # fmt: skip
    (ny,) = [summary for summary in read_summary(warehouse, 30) if summary.shop == "ny"]
    lines = dict(ny.lines())
    assert "shipping_charged" not in lines
    assert lines["net_profit"] == 45
    assert "warning" not in format_summary([ny], 30)


def test_the_history_still_loading_is_said(warehouse: str, monkeypatch) -> None:
    monkeypatch.setenv("BLOOM_REPORTS_AS_OF", "2026-12-07T03:00:00Z")
    summaries = {summary.shop: summary for summary in read_summary(warehouse, 30)}
    assert (
        summaries["ny"].provisional()
        == "provisional: history 3 of 25 months loaded (shopify 3 of 25, shipping 4 of 24)"
    )
    assert summaries["tokyo"].provisional() is None
    assert "provisional: history 3 of 25" in format_summary([summaries["ny"]], 30)
    assert "provisional" not in format_summary([summaries["tokyo"]], 30)
