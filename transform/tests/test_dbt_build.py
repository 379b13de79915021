"""Builds the dbt project on hand-made raw data and checks the reports against hand-worked figures.

Each test database is created fresh on the local Postgres (``BLOOM_TEST_PG_*`` settings,
default ``postgres@127.0.0.1:5432``), loaded with ``fixtures/raw.sql`` (whose header works
the figures out), then ``dbt build`` (seeds included) runs with the executable named by
``DBT_EXECUTABLE`` (default ``dbt`` on PATH, else Meltano's dbt-postgres utility). The demo
seeds apply.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "raw.sql"
PG = {
    "host": os.environ.get("BLOOM_TEST_PG_HOST", "127.0.0.1"),
    "port": os.environ.get("BLOOM_TEST_PG_PORT", "5432"),
    "user": os.environ.get("BLOOM_TEST_PG_USER", "postgres"),
    "password": os.environ.get("BLOOM_TEST_PG_PASSWORD", ""),
}

D = Decimal

# profit_daily and orders_profit as worked out by hand in fixtures/raw.sql; integers are
# counts, other numbers amounts, words kept as text.
EXPECTED_DAILY_TABLE = """
date       orders new_customers gross_sales discounts returns net_sales shipping_charged taxes total_sales cogs
2026-01-10 2      2             85.00       4.00      0       81.00     14.00            6.96  101.96      31.00
2026-01-11 0      0             0           0         0       0         0                0     0           0
2026-01-12 1      0             50.00       3.00      18.00   29.00     0                2.32  31.32       10.00
2026-01-13 0      0             0           0         45.00   -45.00    -8.00            -3.60 -56.60      -15.00
2026-01-14 1      0             0           0         0       0         0                0     0           0

date       shipping_costs handling transaction_fees ad_spend_meta ad_spend_google_ads ad_spend_tiktok ad_spend
2026-01-10 8.50           2.00     5.54             10.00         0                   23.40           33.40
2026-01-11 0              0        0                0             7.20                0               7.20
2026-01-12 10.53          2.25     1.89             5.50          0                   0               5.50
2026-01-13 0              0        0                0             0                   0               0
2026-01-14 0              1.50     0                0             0                   0               0

date       operating_expenses cm1    cm2    cm3    net_profit payouts
2026-01-10 14.52              50.00  46.83  13.43  -1.09      0
2026-01-11 14.52              0      0      -7.20  -21.72     0
2026-01-12 14.52              19.00  4.33   -1.17  -15.69     0
2026-01-13 14.52              -30.00 -45.02 -45.02 -59.54     92.29
2026-01-14 14.52              0      -1.50  -1.50  -16.02     39.43

date       unattributed_shipping_costs third_party_transaction_fees
2026-01-10 0                           1.13
2026-01-11 0                           0
2026-01-12 0                           0
2026-01-13 7.02                        0
2026-01-14 0                           0
"""

EXPECTED_ORDERS_TABLE = """
order_name customer_type net_sales total_sales cogs  shipping_costs shipping_cost_source
#1001      new           18.00     25.92       8.00  8.50           labels
#1002      new           0         0           0     0              none
#1003      returning     47.00     50.76       18.00 10.53          labels
#1005      guest         0         0           0     0              none

order_name handling transaction_fees third_party_transaction_fees cm1   cm2
#1001      2.00     3.07             0                            10.00 2.43
#1002      0        2.47             1.13                         0     -3.60
#1003      2.25     1.89             0                            29.00 14.33
#1005      1.50     0                0                            0     -1.50
"""


def _value(text: str) -> object:
    try:
        return D(text)
    except ArithmeticError:  # decimal.InvalidOperation: a word
        return text


def _parse(table: str) -> dict[str, dict[str, object]]:
    """Rows keyed by their first cell; blocks separated by blank lines add columns."""
    rows: dict[str, dict[str, object]] = {}
    for block in table.strip().split("\n\n"):
        header, *lines = (line.split() for line in block.strip().splitlines())
        for cells in lines:
            rows.setdefault(cells[0], {}).update(
                {column: _value(cell) for column, cell in zip(header[1:], cells[1:], strict=True)}
            )
    return rows


EXPECTED_DAILY = _parse(EXPECTED_DAILY_TABLE)
EXPECTED_ORDERS = _parse(EXPECTED_ORDERS_TABLE)
DAILY_COLUMNS = list(next(iter(EXPECTED_DAILY.values())))
ORDER_COLUMNS = list(next(iter(EXPECTED_ORDERS.values())))
COUNTS = {"orders", "new_customers"}


def _expected_day(day: str) -> dict[str, object]:
    return {c: int(v) if c in COUNTS else v for c, v in EXPECTED_DAILY[day].items()}


def _dbt_executable() -> str:
    """``DBT_EXECUTABLE``, else ``dbt`` on PATH, else the one ``meltano install`` put in its utility venv."""
    name = os.environ.get("DBT_EXECUTABLE")
    meltano_dbt = PROJECT_DIR.parent / ".meltano" / "utilities" / "dbt-postgres" / "venv" / "bin" / "dbt"
    path = shutil.which(name) if name else shutil.which("dbt") or (str(meltano_dbt) if meltano_dbt.exists() else None)
    if path is None:
        pytest.fail(
            f"dbt executable {name or 'dbt'!r} not found: run `meltano install` (dbt-postgres utility), "
            "install dbt-postgres~=1.11.0, or set DBT_EXECUTABLE."
        )
    return path


class Warehouse:
    """A scratch database and the dbt project pointed at it."""

    def __init__(self, tmp_path: Path) -> None:
        """``tmp_path`` holds dbt's target and logs; sharing it lets dbt reuse its parse."""
        self.dbname = f"bloom_dbt_test_{uuid.uuid4().hex[:10]}"
        self.tmp_path = tmp_path
        self.dbt = _dbt_executable()
        # Whom dbt connects as (the fixture and the checks connect as PG's user).
        self.dbt_user, self.dbt_password = PG["user"], PG["password"]
        self.extra_env: dict[str, str] = {}  # more variables for dbt
        self.output = ""  # of the last build()

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(dbname="postgres", autocommit=True, **PG)

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(dbname=self.dbname, autocommit=True, **PG)

    def create(self) -> None:
        with self.admin() as conn:
            conn.execute(f'create database "{self.dbname}"')
        with self.connect() as conn:
            conn.execute(FIXTURE.read_text())

    def drop(self) -> None:
        with self.admin() as conn:
            conn.execute(f'drop database if exists "{self.dbname}" with (force)')

    def run_dbt(self, *args: str) -> str:
        result = self.try_dbt(*args)
        assert result.returncode == 0, f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
        return result.stdout

    def try_dbt(self, *args: str) -> subprocess.CompletedProcess[str]:
        """dbt ``args`` on this warehouse, whatever its exit status."""
        return subprocess.run(self.dbt_command(*args), env=self.dbt_env(), capture_output=True, text=True,
                              timeout=600, check=False)  # fmt: skip

    def start_dbt(self, *args: str) -> subprocess.Popen[str]:
        """dbt ``args`` on this warehouse, started and left running (its output in pipes)."""
        return subprocess.Popen(self.dbt_command(*args), env=self.dbt_env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)  # fmt: skip

    def dbt_env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DBT_POSTGRES_HOST": PG["host"],
            "DBT_POSTGRES_PORT": PG["port"],
            "DBT_POSTGRES_USER": self.dbt_user,
            "DBT_POSTGRES_PASSWORD": self.dbt_password,
            "DBT_POSTGRES_DBNAME": self.dbname,
            "DBT_POSTGRES_SCHEMA": "analytics",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            **self.extra_env,
        }

    def dbt_command(self, *args: str) -> list[str]:
        return [
            self.dbt,
            *args,
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(PROJECT_DIR / "profiles"),
            "--target-path",
            str(self.tmp_path / "target"),
            "--log-path",
            str(self.tmp_path / "logs"),
        ]

    def build(self, *extra: str) -> str:
        """``dbt build``: seeds, models, data tests and unit tests, in dependency order (its output kept)."""
        self.output = self.run_dbt("build", *extra)
        return self.output

    def rows(self, sql: str) -> list[tuple]:
        with self.connect() as conn:
            return conn.execute(sql).fetchall()


@contextmanager
def scratch_warehouse(dbt_dir: Path) -> Iterator[Warehouse]:
    """A warehouse of its own, loaded with the fixture, dropped at the end (``dbt_dir`` shares dbt's parse)."""
    wh = Warehouse(dbt_dir)
    wh.create()
    try:
        yield wh
    finally:
        wh.drop()


@pytest.fixture(scope="module")
def dbt_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dbt")


@pytest.fixture(scope="module")
def warehouse(dbt_dir: Path) -> Iterator[Warehouse]:
    with scratch_warehouse(dbt_dir) as wh:
        wh.build()
        yield wh


def _daily(wh: Warehouse) -> dict[str, tuple]:
    rows = wh.rows(f"select date::text, {', '.join(DAILY_COLUMNS)} from reports.profit_daily order by date")
    return {row[0]: row[1:] for row in rows}


def test_profit_daily_matches_hand_worked_figures(warehouse: Warehouse) -> None:
    daily = _daily(warehouse)
    assert sorted(daily) == sorted(EXPECTED_DAILY)
    for day in EXPECTED_DAILY:
        assert dict(zip(DAILY_COLUMNS, daily[day], strict=True)) == _expected_day(day), day


def test_orders_profit_matches_hand_worked_figures(warehouse: Warehouse) -> None:
    rows = warehouse.rows(f"select order_name, {', '.join(ORDER_COLUMNS)} from reports.orders_profit")
    got = {row[0]: dict(zip(ORDER_COLUMNS, row[1:], strict=True)) for row in rows}
    assert sorted(got) == sorted(EXPECTED_ORDERS), "test order #1004 must be excluded"
    for name, expected in EXPECTED_ORDERS.items():
        assert got[name] == expected, name


def test_daily_sums_equal_order_sums(warehouse: Warehouse) -> None:
    figures = [
        "gross_sales",
        "discounts",
        "returns",
        "net_sales",
        "shipping_charged",
        "taxes",
        "total_sales",
        "cogs",
        "shipping_costs",
        "handling",
        "transaction_fees",
        "third_party_transaction_fees",
        "cm1",
        "cm2",
    ]
    sums = ", ".join(f"sum({f})" for f in figures)
    # profit_daily's CM2 also takes off the labels no order carries (L4, 7.02 on 01-13).
    daily_sums = sums.replace("sum(cm2)", "sum(cm2 + unattributed_shipping_costs)")
    (daily,) = warehouse.rows(
        f"select count(*) filter (where orders > 0), sum(orders), {daily_sums} from reports.profit_daily"
    )
    (orders,) = warehouse.rows(f"select count(distinct processed_date), count(*), {sums} from reports.orders_profit")
    assert daily == orders


def test_marketing_daily_blends_spend_with_sales(warehouse: Warehouse) -> None:
    (row,) = warehouse.rows(
        "select meta_spend, meta_roas, tiktok_spend, tiktok_conversion_value, tiktok_roas, ad_spend,"
        " blended_roas, mer, new_customers, cac, new_customer_net_sales, new_customer_roas"
        " from reports.marketing_daily where date = '2026-01-10'"
    )
    assert row == (
        D("10.00"),
        D("4.0000"),
        D("23.40"),
        D("35.10"),
        D("1.5000"),
        D("33.40"),
        D("3.0527"),
        D("3.0527"),
        2,
        D("16.70"),
        D("18.00"),
        D("0.5389"),
    )
    (google,) = warehouse.rows("select google_ads_spend, cac from reports.marketing_daily where date = '2026-01-11'")
    assert google == (D("7.20"), None)


def test_product_performance_per_variant_and_month(warehouse: Warehouse) -> None:
    rows = warehouse.rows(
        "select sku, units_sold, units_returned, gross_sales, discounts, returns, net_sales, cogs, gross_profit,"
        " return_rate from reports.product_performance where month = '2026-01-01' order by sku"
    )
    assert rows == [
        ("MUG", 5, 3, D("75.00"), D("3.00"), D("45.00"), D("27.00"), D("10.00"), D("17.00"), D("0.6000")),
        ("TEE-M", 3, 1, D("60.00"), D("4.00"), D("18.00"), D("38.00"), D("16.00"), D("22.00"), D("0.3333")),
    ]


def test_customer_ltv_and_cohorts(warehouse: Warehouse) -> None:
    ltv = warehouse.rows(
        "select customer_id, orders, is_repeat_customer, net_sales, cm2, cohort_month::text"
        " from reports.customer_ltv order by customer_id"
    )
    assert ltv == [
        ("gid://shopify/Customer/1", 2, True, D("65.00"), D("16.76"), "2026-01-01"),
        ("gid://shopify/Customer/2", 1, False, D("0.00"), D("-3.60"), "2026-01-01"),
    ]
    cohorts = warehouse.rows(
        "select cohort_month::text, months_since_first_order, cohort_customers, active_customers, retention_rate,"
        " repeat_customers, repeat_rate, net_sales, cumulative_net_sales_per_customer from reports.customer_cohorts"
    )
    assert cohorts == [("2026-01-01", 0, 2, 2, D("1.0000"), 1, D("0.5000"), D("65.00"), D("32.50"))]


def test_shipping_costs_against_shipping_charged(warehouse: Warehouse) -> None:
    rows = warehouse.rows(
        "select order_name, shipping_charged, labels, label_total_cost, estimated_shipping_cost, shipping_costs,"
        " shipping_margin from reports.shipping_costs order by order_name"
    )
    assert rows == [
        ("#1001", D("6.00"), 1, D("8.50"), D("6.00"), D("8.50"), D("-2.50")),
        ("#1002", D("0.00"), 0, None, None, D("0.00"), D("0.00")),
        ("#1003", D("0.00"), 1, D("10.53"), D("6.50"), D("10.53"), D("-10.53")),
        ("#1005", D("0.00"), 0, None, None, D("0.00"), D("0.00")),
        # L4 matches no order: its own row, on the day it was bought.
        (None, D("0"), 1, D("7.02"), None, D("7.02"), D("-7.02")),
    ]
    unattributed = warehouse.rows(
        "select processed_date::text, shipping_cost_source, label_provider, label_id from reports.shipping_costs"
        " where order_id is null"
    )
    assert unattributed == [("2026-01-13", "unattributed_label", "shippo", "L4")]


def test_payouts_reconciliation_lists_the_mismatch(warehouse: Warehouse) -> None:
    rows = warehouse.rows(
        "select payout_id, net, balance_net, difference, is_reconciled from reports.payouts_reconciliation"
        " order by payout_id"
    )
    assert rows == [
        ("gid://shopify/ShopifyPaymentsPayout/1", D("92.29"), D("92.29"), D("0.00"), True),
        ("gid://shopify/ShopifyPaymentsPayout/2", D("29.43"), D("29.43"), D("0.00"), True),
        ("gid://shopify/ShopifyPaymentsPayout/3", D("10.00"), D("0"), D("10.00"), False),
    ]


def test_incremental_run_adds_new_day_and_late_refund(warehouse: Warehouse) -> None:
    """A later sync brings a new order and a refund of an older order; an incremental run books both.

    #1006 (01-15, guest, 1 Mug, US): gross 15.00, cogs 5.00, rule 5.00 + 0.50, handling 1.75.
    #1003 gets a refund on 01-15 of one Mug (subtotal 13.50, tax 1.08, NO_RESTOCK: no cogs back).
    #1001's label L1 (8.50, order of 01-10) is voided on 01-15: far outside the lookback.
    Each row is loaded again (a later `_sdc_batched_at`), as target-postgres would; the rows
    not loaded again keep their load time, and the run must leave them as they are.
    """
    with warehouse.connect() as conn:
        conn.execute("""
            update raw_shopify.orders set updated_at = '2026-01-15 18:00:00',
                _sdc_batched_at = '2026-01-21 06:00:00', refunds = array['{
                "id": "gid://shopify/Refund/3", "created_at": "2026-01-15T18:00:00Z",
                "processed_at": "2026-01-15T18:00:00Z", "note": null, "total_refunded": "14.58",
                "total_refunded_presentment": "14.58", "shipping_subtotal": "0.00", "shipping_tax": "0.00",
                "refund_line_items": [{"id": "gid://shopify/RefundLineItem/3",
                  "line_item_id": "gid://shopify/LineItem/5", "quantity": 1, "restock_type": "NO_RESTOCK",
                  "subtotal": "13.50", "subtotal_presentment": "13.50",
                  "total_tax": "1.08", "total_tax_presentment": "1.08"}]}'::jsonb]
            where id = 'gid://shopify/Order/1003'
        """)
        conn.execute("""
            insert into raw_shopify.orders (shop, id, name, number, processed_at, created_at, updated_at, test,
                currency, source_name, shipping_country, line_items, shipping_lines, refunds, _sdc_batched_at)
            values ('bloom-test', 'gid://shopify/Order/1006', '#1006', 1006, '2026-01-15 17:00:00',
                '2026-01-15 17:00:00', '2026-01-15 17:00:00', false, 'USD', 'web', 'US',
                array['{"id": "gid://shopify/LineItem/8", "variant_id": "gid://shopify/ProductVariant/21",
                   "quantity": 1, "original_unit_price": "15.00", "total_discount": "0.00", "tax": "0.00",
                   "is_gift_card": false, "requires_shipping": true}'::jsonb], '{}', null,
                '2026-01-21 06:00:00')
        """)
        conn.execute(
            "update raw_shipping.shipping_labels set voided = true, voided_at = '2026-01-15 19:00:00',"
            " _sdc_batched_at = '2026-01-21 06:30:00' where label_id = 'L1'"
        )
    # The daily run, with a one-day lookback: profit_daily recomputes 01-13 onwards only,
    # the incremental tables only the orders loaded since the first build's load.
    warehouse.run_dbt("build", "--vars", "{lookback_days: 1}")
    day = _daily(warehouse)["2026-01-15"]
    got = dict(zip(DAILY_COLUMNS, day, strict=True))
    assert (got["orders"], got["gross_sales"], got["returns"], got["net_sales"], got["cogs"]) == (
        1,
        D("15.00"),
        D("13.50"),
        D("1.50"),
        D("5.00"),
    )
    assert (got["shipping_costs"], got["handling"], got["taxes"]) == (D("5.50"), D("1.75"), D("-1.08"))
    (order,) = warehouse.rows(
        "select returns, net_sales, refunds from reports.orders_profit where order_name = '#1003'"
    )
    assert order == (D("13.50"), D("33.50"), 1)
    # Days before the refund keep their figures.
    assert dict(zip(DAILY_COLUMNS, _daily(warehouse)["2026-01-12"], strict=True)) == _expected_day("2026-01-12")
    # The voided label's order falls back to the shipping rules, on its own (old) day too.
    ((source, order_shipping),) = warehouse.rows(
        "select shipping_cost_source, shipping_costs from reports.orders_profit where order_name = '#1001'"
    )
    assert source == "shipping_cost_rules"
    old_day = dict(zip(DAILY_COLUMNS, _daily(warehouse)["2026-01-10"], strict=True))
    expected_old_day = _expected_day("2026-01-10")
    assert old_day["shipping_costs"] == expected_old_day["shipping_costs"] - D("8.50") + order_shipping


def test_daily_build_tests_the_rows_it_changed(dbt_dir: Path) -> None:
    """`test_scope: changed` (Meltano's build-daily) tests the rows loaded since the last build only.

    #1001, loaded a day before the other rows, loses a line item id behind the loader's back
    (its load time unchanged): the daily build does not look at it, a full `dbt test` and a
    full refresh with the same vars fail on it, and once the order is loaded again the daily
    build fails too.
    """
    with scratch_warehouse(dbt_dir) as wh:
        with wh.connect() as conn:
            conn.execute(
                "update raw_shopify.orders set _sdc_batched_at = '2026-01-19 06:00' where id = 'gid://shopify/Order/1001'"
            )
        wh.build()
        with wh.connect() as conn:
            conn.execute(
                "update raw_shopify.orders set line_items = array("
                "select jsonb_set(item, '{id}', 'null') from unnest(line_items) as item)"
                " where id = 'gid://shopify/Order/1001'"
            )
        daily = ("build", "--vars", "{test_scope: changed}")
        wh.run_dbt(*daily)
        failing = re.compile(r"FAIL \d+ not_null_stg_shopify__order_line_items_line_item_id")
        full = wh.try_dbt("test")
        assert full.returncode != 0 and failing.search(full.stdout), full.stdout[-3000:]
        # A full refresh rewrites every row and tests every row, whatever the scope (Meltano's
        # build-full-refresh passes the daily's vars, to reuse its parse).
        refresh = wh.try_dbt("build", "--full-refresh", "--vars", "{test_scope: changed}")
        assert refresh.returncode != 0 and failing.search(refresh.stdout), refresh.stdout[-3000:]
        with wh.connect() as conn:
            conn.execute(
                "update raw_shopify.orders set updated_at = '2026-01-15 09:00', _sdc_batched_at = '2026-01-21 06:00'"
                " where id = 'gid://shopify/Order/1001'"
            )
        touched = wh.try_dbt(*daily)
        assert touched.returncode != 0 and failing.search(touched.stdout), touched.stdout[-3000:]


def test_labels_read_again_unchanged_are_not_passed_on(dbt_dir: Path) -> None:
    """tap-shipping re-reads its trailing window every day: only a label that changed moves its order.

    Every label is loaded again (a later `_sdc_batched_at`) and L3 (#1003's, EUR) costs 9.00
    instead of 8.00: the incremental run recomputes all of them, stamps L3 alone with a new
    `built_at`, and recomputes #1003 alone downstream, with the new cost.
    """
    with scratch_warehouse(dbt_dir) as wh:
        wh.build()
        labels_sql = "select label_id, built_at from analytics.int_shipping__labels"
        orders_sql = "select order_name, _built_at from reports.orders_profit"
        cost_sql = "select label_cost from reports.shipping_costs where order_name = '#1003'"
        labels, orders, ((cost,),) = dict(wh.rows(labels_sql)), dict(wh.rows(orders_sql)), wh.rows(cost_sql)
        with wh.connect() as conn:
            conn.execute("update raw_shipping.shipping_labels set _sdc_batched_at = '2026-01-21 06:00'")
            conn.execute("update raw_shipping.shipping_labels set label_cost = '9.00' where label_id = 'L3'")
        wh.run_dbt("build")
        labels_after, orders_after = dict(wh.rows(labels_sql)), dict(wh.rows(orders_sql))
        assert labels_after.keys() == labels.keys()
        assert {label for label, built in labels_after.items() if built != labels[label]} == {"L3"}
        assert {order for order, built in orders_after.items() if built != orders[order]} == {"#1003"}
        ((cost_after,),) = wh.rows(cost_sql)
        assert cost_after > cost


def test_first_order_loaded_after_a_later_one_moves_the_customer_to_its_cohort(dbt_dir: Path) -> None:
    """Customer 2's first order (#1000, December) is loaded after its January ones, as a history
    backfill would: the incremental run moves the customer from the 2026-01 cohort to 2025-12 and
    leaves the customer tables as a full refresh makes them.
    """
    with scratch_warehouse(dbt_dir) as wh:
        tables = {
            "customer_cohorts": "shop, cohort_month, month",
            "customer_ltv": "shop, customer_id",
            "orders_profit": "shop, order_id",
        }

        def reports() -> dict[str, list[tuple]]:
            result = {}
            for table, key in tables.items():
                columns = [name for (name,) in wh.rows(
                    "select column_name from information_schema.columns where table_schema = 'reports'"
                    f" and table_name = '{table}' and column_name not like '\\_%' order by column_name")]  # fmt: skip
                result[table] = wh.rows(f"select {', '.join(columns)} from reports.{table} order by {key}")
            return result

        wh.build()
        with wh.connect() as conn:
            conn.execute("""
                insert into raw_shopify.orders (shop, id, name, number, customer_id, processed_at, created_at,
                    updated_at, test, currency, source_name, shipping_country, line_items, shipping_lines,
                    refunds, _sdc_batched_at)
                values ('bloom-test', 'gid://shopify/Order/1000', '#1000', 1000, 'gid://shopify/Customer/2',
                    '2025-12-20 17:00:00', '2025-12-20 17:00:00', '2025-12-20 17:00:00', false, 'USD', 'web',
                    'CA', array['{"id": "gid://shopify/LineItem/9",
                       "variant_id": "gid://shopify/ProductVariant/21", "quantity": 1,
                       "original_unit_price": "15.00", "total_discount": "0.00", "tax": "0.00",
                       "is_gift_card": false, "requires_shipping": true}'::jsonb], '{}', null,
                    '2026-01-21 06:00:00')
            """)
        wh.run_dbt("build")
        incremental = reports()
        cohorts = {row[0]: row[1] for row in wh.rows(
            "select cohort_month::text, cohort_customers from reports.customer_cohorts"
            " where month = cohort_month")}  # fmt: skip
        assert cohorts == {"2025-12-01": 1, "2026-01-01": 1}, cohorts
        wh.run_dbt("build", "--full-refresh")
        assert incremental == reports()


def test_a_cost_seen_later_costs_the_orders_after_it_and_survives_a_full_refresh(dbt_dir: Path) -> None:
    """A later sync brings new unit costs but no order: the Tee's cost is 9.00 from 2026-01-01
    (before every order) and the Mug's 6.00 from 01-11 12:00 UTC (after #1002 at 04:30 UTC,
    before #1003). The daily run costs again the orders already built that the new versions
    cover (and the Tee's refund, reversed at the cost booked on its line); #1002 keeps 5.00.
    A full refresh afterwards gives the same figures: the cost history is a snapshot that
    a rebuild leaves alone.

    #1001: 2 Tees 16.00 -> 18.00 on 01-10, refund of 1 Tee -8.00 -> -9.00 on 01-12.
    #1003: Tee 8.00 -> 9.00 and 2 Mugs 10.00 -> 12.00 on 01-12. #1002 (Mugs, cancelled): unchanged.
    """
    with scratch_warehouse(dbt_dir) as wh:

        def figures() -> tuple[dict, dict, dict]:
            days = dict(wh.rows("select date::text, cogs from reports.profit_daily"))
            orders = dict(wh.rows("select order_name, cogs from reports.orders_profit"))
            products = dict(wh.rows("select sku, cogs from reports.product_performance where month = '2026-01-01'"))
            return days, orders, products

        wh.build()
        days, orders, products = figures()
        assert (days["2026-01-10"], days["2026-01-12"], days["2026-01-13"]) == (D("31.00"), D("10.00"), D("-15.00"))
        with wh.connect() as conn:
            for product, variant, cost, changed in (
                ("gid://shopify/Product/1", "gid://shopify/ProductVariant/11", "9.00", "2026-01-01T00:00:00Z"),
                ("gid://shopify/Product/2", "gid://shopify/ProductVariant/21", "6.00", "2026-01-11T12:00:00Z"),
            ):
                conn.execute(
                    "update raw_shopify.products set updated_at = %(changed)s::timestamptz at time zone 'UTC',"
                    " variants = array[variants[1] || jsonb_build_object("
                    "'unit_cost', %(cost)s::text, 'updated_at', %(changed)s::text)]"
                    " where id = %(product)s and variants[1]->>'id' = %(variant)s",
                    {"product": product, "variant": variant, "cost": cost, "changed": changed},
                )
        wh.run_dbt("build")
        incremental = figures()
        days, orders, products = incremental
        assert (days["2026-01-10"], days["2026-01-12"], days["2026-01-13"]) == (D("33.00"), D("12.00"), D("-15.00"))
        assert (orders["#1001"], orders["#1002"], orders["#1003"]) == (D("9.00"), D("0.00"), D("21.00"))
        assert products["TEE-M"] == D("18.00")  # 3 x 9.00 - 9.00 returned
        assert products["MUG"] == D("12.00")  # 3 x 5.00 (#1002) + 2 x 6.00 (#1003) - 3 x 5.00 cancelled
        wh.run_dbt("build", "--full-refresh")
        assert figures() == incremental
        versions = wh.rows(
            "select variant_id, unit_cost, valid_from::text from analytics.int_shopify__variant_costs"
            " where variant_id like '%/21' order by valid_from"
        )
        assert versions == [
            ("gid://shopify/ProductVariant/21", D("5.00"), "-infinity"),
            ("gid://shopify/ProductVariant/21", D("6.00"), "2026-01-11 12:00:00"),
        ]


def test_shipping_charged_left_out_of_the_margins_when_the_var_says_so(dbt_dir: Path) -> None:
    """`shipping_charged_in_margin: false`: CM2 and everything after it leave shipping charged
    out (01-10: 50.00 - 8.50 - 2.00 - 5.54 - 1.13 = 32.83; #1001: 10.00 - 8.50 - 2.00 - 3.07 = -3.57);
    with the default (the module's warehouse) they count it, and nothing else differs."""
    with scratch_warehouse(dbt_dir) as wh:
        wh.build("--vars", "{shipping_charged_in_margin: false}")
        rows = wh.rows("select date::text, cm2, cm3, net_profit, shipping_charged, net_sales from reports.profit_daily")
        daily = {row[0]: row[1:] for row in rows}
        assert daily["2026-01-10"][:3] == (D("32.83"), D("-0.57"), D("-15.09"))
        assert daily["2026-01-13"][:3] == (D("-37.02"), D("-37.02"), D("-51.54"))
        orders = dict(wh.rows("select order_name, cm2 from reports.orders_profit"))
        assert (orders["#1001"], orders["#1002"], orders["#1003"]) == (D("-3.57"), D("-3.60"), D("14.33"))
        for day, (cm2, _cm3, net_profit, shipping_charged, net_sales) in daily.items():
            expected = _expected_day(day)
            assert (shipping_charged, net_sales) == (expected["shipping_charged"], expected["net_sales"])
            assert cm2 == expected["cm2"] - shipping_charged, day
            assert net_profit == expected["net_profit"] - shipping_charged, day


def test_reports_build_when_dbt_does_not_own_the_raw_tables(dbt_dir: Path) -> None:
    """A dbt user that may only read the loader's tables builds every report, without the raw indexes.

    `on-run-start` indexes the raw columns the daily runs filter on (macros/index_raw_tables.sql);
    only a table's owner may, so for anyone else it warns and the run goes on.
    """
    wh = Warehouse(dbt_dir)
    wh.create()
    role = f"bloom_reader_{uuid.uuid4().hex[:8]}"
    try:
        with wh.connect() as conn:
            conn.execute(f"create role {role} login password 'bloom-test'")
            conn.execute(f'grant connect, create on database "{wh.dbname}" to {role}')
            for schema in ("raw_shopify", "raw_ads", "raw_shipping"):
                conn.execute(f"grant usage on schema {schema} to {role}")
                conn.execute(f"grant select on all tables in schema {schema} to {role}")
        wh.dbt_user, wh.dbt_password = role, "bloom-test"
        wh.build()
        assert wh.rows("select count(*) from reports.profit_daily") == [(len(EXPECTED_DAILY),)]
        assert wh.rows("select indexname from pg_indexes where indexname like 'bloom\\_%'") == []
    finally:
        wh.drop()
        with wh.admin() as conn:
            conn.execute(f"drop role if exists {role}")


def test_reports_build_without_ad_and_shipping_tables(dbt_dir: Path) -> None:
    """A merchant without ad or shipping accounts has no raw_ads / raw_shipping tables."""
    with scratch_warehouse(dbt_dir) as wh:
        with wh.connect() as conn:
            conn.execute("drop schema raw_ads cascade; drop schema raw_shipping cascade")
        wh.build()
        (totals,) = wh.rows(
            "select count(*), sum(ad_spend), sum(shipping_costs), sum(net_sales) from reports.profit_daily"
        )
        # 01-11 stays in the range (between order days); without labels #1001 and #1003 (US)
        # get the US rule: 5.00 + 0.50 x 2 and 5.00 + 0.50 x 3; #1002 (CA, cancelled, never
        # shipped) none.
        assert totals == (5, D("0.00"), D("12.50"), D("65.00"))
        sources = wh.rows("select order_name, shipping_cost_source from reports.orders_profit order by 1")
        assert [s for _, s in sources] == ["shipping_cost_rules", "none", "shipping_cost_rules", "none"]
        assert wh.rows("select count(*) from reports.marketing_daily where ad_spend <> 0") == [(0,)]


def test_reports_build_with_one_ad_platform(dbt_dir: Path) -> None:
    """A merchant with Meta only: tap-adplatforms never writes Google Ads' or TikTok's tables."""
    with scratch_warehouse(dbt_dir) as wh:
        with wh.connect() as conn:
            for platform in ("google_ads", "tiktok"):
                conn.execute(f"drop table raw_ads.{platform}_ad_accounts, raw_ads.{platform}_campaigns")
            conn.execute("delete from raw_ads.ad_spend_daily where platform <> 'meta'")
        output = wh.build()
        assert "raw_ads.tiktok_campaigns does not exist" in output.replace('"', "")
        assert wh.rows("select platform, account_id, account_name, currency from analytics.stg_ads__ad_accounts") == [
            ("meta", "act_1", "Bloom Meta", "USD")
        ]
        assert wh.rows("select platform, campaign_id, campaign_name from analytics.stg_ads__campaigns") == [
            ("meta", "c1", "Prospecting")
        ]
        spend = wh.rows(
            "select date::text, ad_spend_meta, ad_spend_google_ads, ad_spend_tiktok, ad_spend"
            " from reports.profit_daily where ad_spend <> 0 order by date"
        )
        assert spend == [
            ("2026-01-10", D("10.00"), D("0"), D("0"), D("10.00")),
            ("2026-01-12", D("5.50"), D("0"), D("0"), D("5.50")),
        ]


def test_no_report_has_a_day_the_shop_has_not_begun(dbt_dir: Path) -> None:
    """An ad account ahead of the shop reports a day the shop has not begun: no report shows it until it begins.

    Built as of 2026-01-14 23:30 UTC: 18:30 on 01-14 in New York (the shop), 00:30 on 01-15 in
    Berlin, where TikTok has already reported 5.00 EUR for 01-15. The reports end on 01-14 (no
    01-15 row with a day of operating expenses); the spend waits in staging. Built again once
    01-15 has begun in New York, the day comes in: 5.00 EUR x 1.17 = 5.85.
    """
    with scratch_warehouse(dbt_dir) as wh:
        with wh.connect() as conn:
            conn.execute(
                "insert into raw_ads.ad_spend_daily values ('tiktok', 'tt_1', 'c2', 'Spark', '2026-01-15', '5.00',"
                " 'EUR', 'Europe/Berlin', 700, 7, '0', '0.00', '7d_click')"
            )
        # (Unit tests left out: their fixed days are later than this "today".)
        wh.extra_env = {"BLOOM_REPORTS_AS_OF": "2026-01-14T23:30:00Z"}
        wh.build("--exclude-resource-type", "unit_test")
        assert _daily(wh) == {day: tuple(_expected_day(day).values()) for day in EXPECTED_DAILY}
        last_days = wh.rows(
            "select (select max(date)::text from analytics.int_shop__days),"
            " (select max(date)::text from analytics.int_finance__operating_expenses_daily),"
            " (select max(spend_date)::text from analytics.int_ads__spend_converted),"
            " (select max(date)::text from reports.marketing_daily),"
            " (select max(spend_date)::text from analytics.stg_ads__ad_spend_daily)"
        )
        # Last days: the range, the expenses, the converted spend (its day before), marketing, staging.
        assert last_days == [("2026-01-14", "2026-01-14", "2026-01-12", "2026-01-14", "2026-01-15")]

        wh.extra_env = {"BLOOM_REPORTS_AS_OF": "2026-01-15T05:30:00Z"}  # 00:30 on 01-15 in New York
        wh.build("--exclude-resource-type", "unit_test")
        day = dict(zip(DAILY_COLUMNS, _daily(wh)["2026-01-15"], strict=True))
        assert (day["orders"], day["ad_spend_tiktok"], day["ad_spend"], day["operating_expenses"]) == (
            0,
            D("5.85"),
            D("5.85"),
            D("14.52"),
        )
        assert wh.rows("select tiktok_spend from reports.marketing_daily where date = '2026-01-15'") == [(D("5.85"),)]

        # A profit_daily holding a day after the shop's today (built before this rule, here as of
        # a later time) loses it on the next run, though an incremental run rewrites only the range.
        wh.extra_env = {"BLOOM_REPORTS_AS_OF": "2026-01-14T23:30:00Z"}
        wh.build("--exclude-resource-type", "unit_test")
        assert max(_daily(wh)) == "2026-01-14"


STALE_RATE_WARNINGS = re.compile(r"WARN 1 (fx_rate_is_recent_int_ads\S*|fx_rate_is_recent_int_shipp\S*)")


def test_a_rate_older_than_31_days_warns_without_failing_the_build(warehouse: Warehouse, dbt_dir: Path) -> None:
    """currency_rates ends on 2026-12-01: EUR spend and a EUR label of 2027-03-10 convert at a rate 99 days old.

    The fixture's January days (rates of 2026-01-01) pass the same tests.
    """
    assert re.search(r"PASS fx_rate_is_recent_int_ads", warehouse.output), warehouse.output[-3000:]
    assert re.search(r"PASS fx_rate_is_recent_int_shipp", warehouse.output), warehouse.output[-3000:]
    assert not STALE_RATE_WARNINGS.search(warehouse.output)
    with scratch_warehouse(dbt_dir) as wh:
        with wh.connect() as conn:
            conn.execute(
                "insert into raw_ads.ad_spend_daily values ('tiktok', 'tt_1', 'c2', 'Spark', '2027-03-10', '5.00',"
                " 'EUR', 'Europe/Berlin', 700, 7, '0', '0.00', '7d_click')"
            )
            conn.execute(
                "insert into raw_shipping.shipping_labels (provider, account_id, label_id, order_ref,"
                " order_ref_match, label_cost, insurance_cost, other_fees, currency, voided, created_at)"
                " values ('shippo', 'sp_1', 'L9', null, 'none', '6.00', '0.00', '0.00', 'EUR', false,"
                " '2027-03-10 12:00:00')"
            )
        wh.extra_env = {"BLOOM_REPORTS_AS_OF": "2027-03-11T12:00:00Z"}
        output = wh.build()  # exit status 0: a warning
        assert sorted(match.group(1)[:27] for match in STALE_RATE_WARNINGS.finditer(output)) == [
            "fx_rate_is_recent_int_ads__",
            "fx_rate_is_recent_int_shipp",
        ], output[-3000:]
        # Converted all the same, at the last rate there is (2026-12-01: 1.1650).
        assert wh.rows(
            "select fx_rate_date::text, spend_shop_currency from analytics.int_ads__spend_converted"
            " where spend_date = '2027-03-10'"
        ) == [("2026-12-01", D("5.8250"))]


def test_staging_unions_every_platforms_accounts_and_campaigns(warehouse: Warehouse) -> None:
    """With all three platforms' tables present, staging reads each one's rows."""
    assert warehouse.rows("select platform, account_id from analytics.stg_ads__ad_accounts order by 1") == [
        ("google_ads", "123-456-7890"),
        ("meta", "act_1"),
        ("tiktok", "tt_1"),
    ]
    assert warehouse.rows("select platform, campaign_id, objective from analytics.stg_ads__campaigns order by 1") == [
        ("google_ads", "c3", "SEARCH"),
        ("meta", "c1", "SALES"),
        ("tiktok", "c2", "CONVERSIONS"),
    ]


# The advisory lock key and its holder's pid: bloom_suite.runner's names for them.
LOADS_LOCK = 4242


def _waiting_on_advisory_lock(wh: Warehouse, process: subprocess.Popen[str], timeout: float = 120) -> None:
    """Return once a session of ``wh`` waits for an advisory lock; fail if ``process`` ends first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = wh.rows(
            "select count(*) from pg_stat_activity where datname = current_database() "
            "and wait_event_type = 'Lock' and wait_event = 'advisory'"
        )
        if waiting[0][0]:
            return
        if process.poll() is not None:
            pytest.fail(f"dbt ended (code {process.returncode}) without waiting:\n{process.stdout.read()[-3000:]}")
        time.sleep(0.2)
    pytest.fail(f"dbt did not reach the advisory lock within {timeout:.0f} s")


def _exists(wh: Warehouse, relation: str) -> bool:
    return wh.rows(f"select to_regclass('{relation}') is not null")[0][0]


def test_reports_started_ahead_of_the_loads_wait_for_their_lock(dbt_dir: Path) -> None:
    """Started while the loads run (bloom_suite.runner), dbt builds nothing until the loads' lock is free.

    The session holding the lock stands for the runner; the row it loads while dbt waits is
    in the table dbt builds after.
    """
    with scratch_warehouse(dbt_dir) as wh:
        with wh.connect() as loads:
            loads.execute("select pg_advisory_lock(%s)", (LOADS_LOCK,))
            wh.extra_env = {"BLOOM_LOADS_LOCK": str(LOADS_LOCK), "BLOOM_LOADS_HOLDER": str(loads.info.backend_pid)}
            dbt = wh.start_dbt("build", "--select", "+int_accounts__shops", "--exclude-resource-type", "test",
                               "--exclude-resource-type", "unit_test")  # fmt: skip
            try:
                _waiting_on_advisory_lock(wh, dbt)
                assert not _exists(wh, "analytics.int_accounts__shops")
                loads.execute("insert into raw_ads.meta_ad_accounts (platform, account_id) values ('meta', 'act_late')")
                loads.execute("select pg_advisory_unlock(%s)", (LOADS_LOCK,))
                out, err = dbt.communicate(timeout=600)
            finally:
                dbt.kill()
            assert dbt.returncode == 0, out[-3000:] + err[-2000:]
        accounts = wh.rows("select account_id from analytics.int_accounts__shops")
        assert ("act_late",) in accounts


@pytest.mark.parametrize(
    ("lock", "holder", "message"),
    [
        (str(LOADS_LOCK), "other-database", "is not connected to database"),
        ("a-lock", "123", "must be integers"),
    ],
)
def test_reports_started_ahead_stop_without_their_loads_holder(
    dbt_dir: Path, lock: str, holder: str, message: str
) -> None:
    """A holder that is not in dbt's database (a runner gone, dbt and the loader apart) stops dbt before any model."""
    with scratch_warehouse(dbt_dir) as wh:
        with wh.admin() as elsewhere:  # connected to database postgres, not dbt's
            pid = str(elsewhere.info.backend_pid) if holder == "other-database" else holder
            wh.extra_env = {"BLOOM_LOADS_LOCK": lock, "BLOOM_LOADS_HOLDER": pid}
            result = wh.try_dbt("run", "--select", "stg_ads__ad_accounts")
        assert result.returncode != 0
        assert message in result.stdout, result.stdout[-3000:]
        assert not _exists(wh, "analytics.stg_ads__ad_accounts")


SOURCE_HISTORY = """
    create schema bloom_sync;
    create table bloom_sync.source_history (
        plugin text, stream text, shop text, platform text, account_id text, months integer,
        months_pending integer, pending_from text, pending_to text, recorded_at timestamptz default now()
    );
"""


def test_days_whose_history_is_pending_are_provisional_until_it_is_in(dbt_dir: Path) -> None:
    """What the runner recorded from the taps' HISTORY lines marks the days it covers.

    Shopify's orders owe everything before 2026-01-12 05:00 UTC (the shop's midnight, New
    York): 01-10 and 01-11 lack orders, and every day's new customers may be returning ones.
    Meta's act_1 owes its account days 01-10 (the day after the last is exclusive). A
    ShipStation account owes, uncounted, everything before 01-11 00:00 UTC (01-10 19:00 in
    New York); Shippo's owes nothing any more. Once a run records both complete, the daily
    build rebuilds the provisional days and every day is final.
    """
    with scratch_warehouse(dbt_dir) as wh:
        with wh.connect() as conn:
            conn.execute(SOURCE_HISTORY)
            conn.execute("""
                insert into bloom_sync.source_history values
                ('tap-shopify-bloom', 'orders', 'bloom-test', '', '', 3, 3, null, '2026-01-12T05:00:00Z'),
                ('tap-shopify-bloom', 'customers', 'bloom-test', '', '', 3, 0, null, null),
                ('tap-adplatforms', 'ad_spend_daily', '', 'meta', 'act_1', 2, 1, '2026-01-10', '2026-01-11'),
                ('tap-shipping', 'shipping_labels', '', 'shippo', 'acct-1', 1, 0, null, null),
                ('tap-shipping', 'shipstation_shipments', '', 'shipstation', 'ss-1', null, null, null,
                 '2026-01-11T00:00:00Z')
            """)
        wh.build()
        status = "select date::text, is_final, history_pending, provisional_reason from reports.profit_daily"
        days = {row[0]: row[1:] for row in wh.rows(status)}
        customers = "earlier Shopify orders pending (new customers, unmatched labels)"
        assert days["2026-01-10"] == (
            False, "ads, shipping, shopify", f"history pending: ads, shipping, shopify; {customers}"
        )  # fmt: skip
        assert days["2026-01-11"] == (False, "shopify", f"history pending: shopify; {customers}")
        for day in ("2026-01-12", "2026-01-13", "2026-01-14"):
            assert days[day] == (False, None, customers), day
        marketing = wh.rows("select date::text, is_final, provisional_reason from reports.marketing_daily")
        assert {day: tuple(rest) for day, *rest in marketing} == {
            day: (final, reason) for day, (final, _, reason) in days.items()
        }
        assert wh.rows("select distinct is_final from reports.customer_cohorts") == [(False,)]
        assert wh.rows("select distinct is_final from reports.customer_ltv") == [(False,)]
        ltv_built = wh.rows("select customer_id, _built_at from reports.customer_ltv order by 1")
        history = {
            row[0]: row[1:]
            for row in wh.rows(
                "select source, is_complete, months, months_loaded, months_pending, pending_from::text,"
                " pending_to::text, streams_pending from reports.sync_history where shop = 'bloom-test'"
            )
        }
        assert history == {
            "shopify": (False, 3, 0, 3, None, "2026-01-12", "orders"),
            "ads": (False, 2, 1, 1, "2026-01-10", "2026-01-11", "ad_spend_daily"),
            "shipping": (False, 1, None, None, None, "2026-01-11", "shipstation_shipments"),
        }
        figures = f"select date::text, {', '.join(DAILY_COLUMNS)} from reports.profit_daily order by date"
        provisional = wh.rows(figures)
        with wh.connect() as conn:
            conn.execute(
                "update bloom_sync.source_history set months_pending = 0, pending_from = null, pending_to = null"
            )
        wh.run_dbt("build")
        assert sorted(wh.rows(status)) == [(day, True, None, None) for day in sorted(days)]
        assert wh.rows(figures) == provisional  # what was pending held nothing of these days
        assert wh.rows("select count(*) from reports.sync_history where not is_complete") == [(0,)]
        assert wh.rows("select distinct is_final from reports.customer_cohorts") == [(True,)]
        # No order changed: the flag turns on rows this build did not rebuild.
        assert wh.rows("select customer_id, _built_at from reports.customer_ltv order by 1") == ltv_built
        assert wh.rows("select distinct is_final from reports.customer_ltv") == [(True,)]
        assert wh.rows("select count(*) from reports.marketing_daily where not is_final") == [(0,)]


def test_reports_are_final_where_no_runner_records_history(warehouse: Warehouse) -> None:
    """Without bloom_sync.source_history (plain `meltano run`) nothing is pending; the
    fixture's every variant has a cost, so every day is final."""
    days = warehouse.rows("select date::text, is_final, provisional_reason from reports.profit_daily")
    assert {day for day, *_ in days} >= set(EXPECTED_DAILY)
    assert [(day, final, reason) for day, final, reason in days if not final or reason] == []
    assert warehouse.rows("select count(*) from reports.sync_history") == [(0,)]
