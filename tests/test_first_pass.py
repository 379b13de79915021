"""The demo's quick first pass, then the history: the first reports' days stay as they were, and true.

`make demo` first runs every tap with ``backfill`` false (the last ``RECENT_DAYS`` of every
source, and Shopify's whole catalog with its unit costs), builds the reports untested, then
reads the history and rebuilds them from scratch. For the shop-local days the first pass
covers whole, every ``profit_daily`` figure that does not need the history must be the same
before and after it, and equal the sandbox's truth to the cent. What needs the history is a
customer's first order (``new_customers``; CAC and cohorts build on it): a first order may lie
before the window, so those figures are left out here. So are labels that match no synced order
(``unattributed_shipping_costs``): in the first pass they include labels bought in the window
for orders older than it, which the history then matches and moves to their orders' days; CM2,
CM3 and net profit are compared before them.

The days say so themselves: after the first pass every day is provisional (its new customers
may have older first orders) and ``sync_history`` counts the history months still pending;
after the history every day is final but those that sold units without a cost.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from _helpers import project

from bloom_suite.demo import FIRST_REPORTS, HISTORY_REPORTS, RECENT_DAYS, RECENT_ONLY
from bloom_suite.runner import run_pipeline
from bloom_suite.summary import format_summary, read_summary

SHOP = "bloom-demo"
CENT = Decimal("0.01")
# Columns that need the history: whether an order is a customer's first (its first order may
# be older than the first pass's window), and whether a label's order is synced yet (with the
# margins taken from it). Columns starting with "_" record when rows were built.
NEEDS_HISTORY = {"new_customers", "unattributed_shipping_costs", "cm2_margin", "cm3_margin", "net_profit_margin"}
# Whether and why a day is final: provisional in the first pass on purpose (checked apart).
STATUS = {"is_final", "provisional_reason", "history_pending"}
# Compared before the labels that match no synced order.
BEFORE_UNATTRIBUTED = ("cm2", "cm3", "net_profit")


def run(pipeline, env: dict[str, str], reports: str) -> None:
    """One pass as `make demo` runs it: the three sources side by side, then ``reports``."""
    log = pipeline.workdir / "meltano.log"
    report = run_pipeline(project(), "demo", {**pipeline.env(), **env}, log, reports, warehouse=pipeline.dsn)
    assert report.ok, f"{report.failed_jobs()} failed:\n{log.read_text()[-5000:]}"


def whole_days(zone: ZoneInfo, window_start: datetime, store_now: datetime) -> list[date]:
    """The shop-local days that lie whole in ``[window_start, store_now)``.

    The taps' live window is ``RECENT_DAYS`` x 24 h back from their clock, in UTC, so it seldom
    starts on a shop-local midnight: the day it starts in is read only from the window's start
    (its earlier orders, fees and ad spend come with the history), so its figures are bound to
    change and it is not compared. The day the store's clock is in is not over, so it is left
    out too. That leaves ``RECENT_DAYS`` whole days only when the window starts on a midnight.
    """
    day = window_start.astimezone(zone).date()
    days = []
    while True:
        start = datetime.combine(day, time(), zone)
        end = datetime.combine(day + timedelta(days=1), time(), zone)
        if end > store_now:
            return days
        if start >= window_start:
            days.append(day)
        day += timedelta(days=1)


def compared_columns(pipeline) -> list[str]:
    """profit_daily's columns but the key, the bookkeeping ones and those that need the history."""
    rows = pipeline.query(
        "select column_name from information_schema.columns where table_schema = 'reports'"
        " and table_name = 'profit_daily' and column_name not like '\\_%%' order by ordinal_position"
    )
    return [name for (name,) in rows if name not in {"shop", "date", *NEEDS_HISTORY, *STATUS}]


def months_between(start: date, end: datetime) -> int:
    """Calendar months from ``start``'s to ``end``'s, both counted."""
    return (end.year - start.year) * 12 + end.month - start.month + 1


def report_rows(pipeline, columns: list[str], days: list[date]) -> dict[date, dict[str, object]]:
    """profit_daily's ``columns`` of ``days``, by day (CM2 and after before unattributed labels)."""
    quoted = ", ".join(
        f'"{c}" + unattributed_shipping_costs' if c in BEFORE_UNATTRIBUTED else f'"{c}"' for c in columns
    )
    rows = pipeline.query(
        f"select date, {quoted} from reports.profit_daily where shop = %s and date = any(%s)", (SHOP, days)
    )
    return {row[0]: dict(zip(columns, row[1:], strict=True)) for row in rows}


def test_first_reports_equal_the_reports_after_the_history_and_the_truth(recent_pipeline):
    """The first pass's whole days: COGS where the truth has some, every figure that does not need
    the history equal after the history and the full rebuild, and equal to the sandbox's truth."""
    truth = recent_pipeline.sandbox.get("/_sandbox/truth")
    zone = ZoneInfo(truth["shop"]["iana_timezone"])
    store_now = datetime.fromisoformat(truth["now"].replace("Z", "+00:00"))

    run(recent_pipeline, RECENT_ONLY, FIRST_REPORTS)
    # Each tap took its clock when it started, before this moment: no window starts later.
    days = whole_days(zone, datetime.now(UTC) - timedelta(days=RECENT_DAYS), store_now)
    # The store's clock (midnight UTC) is less than a day behind the run's: the window holds
    # more than RECENT_DAYS - 1 days of the store, so at least RECENT_DAYS - 2 whole ones.
    assert len(days) >= RECENT_DAYS - 2, days
    columns = compared_columns(recent_pipeline)
    first = report_rows(recent_pipeline, columns, days)
    assert sorted(first) == days, "the first reports miss some of the days the first pass covers"

    status = dict(recent_pipeline.query(
        "select date, provisional_reason from reports.profit_daily where shop = %s and date = any(%s)", (SHOP, days)
    ))  # fmt: skip
    pending_customers = "earlier Shopify orders pending (new customers, unmatched labels)"
    assert all(pending_customers in status[day] for day in days), status
    assert not any("shopify" in status[day].split(";")[0] for day in days if "history" in status[day]), status
    history = {
        source: (complete, months, pending)
        for source, complete, months, pending in recent_pipeline.query(
            "select source, is_complete, months, months_pending from reports.sync_history where shop = %s", (SHOP,)
        )
    }
    start = date.fromisoformat(recent_pipeline.env()["BLOOM_START_DATE"])
    window_start = datetime.now(UTC) - timedelta(days=RECENT_DAYS)
    assert history["shopify"] == (False, months_between(start, window_start), months_between(start, window_start))
    assert not history["ads"][0]
    assert history["ads"][2] > 0
    assert "provisional: history 0 of" in format_summary(read_summary(recent_pipeline.dsn, RECENT_DAYS))

    cogs_missing = [
        f"{day}: cogs {first[day]['cogs']}, truth {truth['days'][str(day)]['cogs']}"
        for day in days
        if Decimal(truth["days"].get(str(day), {}).get("cogs", 0)) and not first[day]["cogs"]
    ]
    assert not cogs_missing, "the first reports have no COGS where the truth has:\n" + "\n".join(cogs_missing)

    run(recent_pipeline, {}, HISTORY_REPORTS)
    after = report_rows(recent_pipeline, columns, days)
    changed = [
        f"{day} {name}: first pass {first[day][name]} != after the history {after.get(day, {}).get(name)}"
        for day in days
        for name in columns
        if first[day][name] != after.get(day, {}).get(name)
    ]
    assert not changed, f"{len(changed)} figures changed with the history:\n" + "\n".join(changed[:30])
    provisional = recent_pipeline.query(
        "select date, provisional_reason from reports.profit_daily where shop = %s and not is_final"
        " and (units_without_cost = 0 and net_sales_with_cost_recorded = net_sales"
        " or provisional_reason <> 'units without a cost')",
        (SHOP,),
    )
    assert not provisional, f"days still provisional after the history, for another reason than costs: {provisional}"
    assert recent_pipeline.query("select source from reports.sync_history where not is_complete") == []

    figures = [name for name in next(iter(truth["days"].values())) if name in columns]
    assert {"orders", "net_sales", "cogs"} <= set(figures), figures
    wrong = [
        f"{day} {name}: report {first[day][name]} != truth {want}"
        for day in days
        for name in figures
        if Decimal(first[day][name] or 0).quantize(CENT)
        != (want := Decimal(str(truth["days"].get(str(day), {}).get(name, 0))).quantize(CENT))
    ]
    assert not wrong, f"{len(wrong)} figures differ from the truth:\n" + "\n".join(wrong[:30])
    assert sum(first[day]["orders"] for day in days) > 0, "no order in the compared days: nothing was compared"
