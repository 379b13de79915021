"""Progress lines of a run without a terminal (``bloom_suite/progress.py``), from the taps' documented lines."""

from __future__ import annotations

import json

import pytest

from bloom_suite import progress as progress_module
from bloom_suite.history import Pending
from bloom_suite.progress import PlainLines, RunProgress


def said(stream: str, pending: int | None, months: int | None = 3, account: str = "") -> Pending:
    line = json.dumps({
        "stream": stream, "shop": "s", "platform": None, "account_id": account or None,
        "months": months, "months_pending": pending, "pending_from": None, "pending_to": None,
    })  # fmt: skip
    parsed = Pending.parse("tap-shopify-bloom", f"HISTORY: {line}")
    assert parsed is not None
    return parsed


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The progress module's monotonic clock, moved by hand."""
    now = [1000.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: now[0])
    return now


def test_a_line_per_finished_month_and_per_quiet_half_minute(clock, capsys) -> None:
    run = RunProgress(PlainLines())
    run.start("sync-shopify")
    run.history("sync-shopify", said("orders", 3))  # announced: 3 months owed, no line
    run.history("sync-shopify", said("orders", 3))  # the stream starts: still 3, no line
    run.history("sync-shopify", said("customers", 0, months=None))  # done before this run: not counted
    assert capsys.readouterr().out == ""
    clock[0] += 10
    run.records("sync-shopify", "orders", 500)
    run.history("sync-shopify", said("orders", 2))
    clock[0] += 10
    run.records("sync-shopify", "orders", 500)
    run.history("sync-shopify", said("orders", 1))
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "[progress] sync-shopify: orders, history 1 of 3 months, 500 records (50/s), about 20 s left",
        "[progress] sync-shopify: orders, history 2 of 3 months, 1,000 records (50/s), about 10 s left",
    ]
    clock[0] += 29
    run.tick()
    assert capsys.readouterr().out == ""  # quiet for less than 30 s
    clock[0] += 1
    run.tick()
    assert capsys.readouterr().out.startswith("[progress] sync-shopify: orders, history 2 of 3 months")
    clock[0] += 5
    run.history("sync-shopify", said("orders", 0, months=None))  # the last month: the tap no longer counts
    run.end("sync-shopify", 0)
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == "[progress] sync-shopify: done in 55 s, orders, history 3 of 3 months, 1,000 records (18/s)"


def test_accounts_add_up_and_a_failure_says_its_exit_code(clock, capsys) -> None:
    run = RunProgress(PlainLines())
    run.start("sync-ads")
    run.history("sync-ads", said("ad_spend_daily", 25, months=25, account="1"))
    run.history("sync-ads", said("ad_spend_daily", 25, months=25, account="2"))
    clock[0] += 4
    run.history("sync-ads", said("ad_spend_daily", 24, months=25, account="1"))
    run.end("sync-ads", 1)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("[progress] sync-ads: ad_spend_daily, history 1 of 50 months, 0 records")
    assert lines[0].endswith("about 3 min left")  # 49 months at 4 s each
    assert lines[1].startswith("[progress] sync-ads: failed (exit code 1) in 4 s, ad_spend_daily, history 1 of 50")
