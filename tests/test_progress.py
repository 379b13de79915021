"""Progress lines of a run without a terminal (``bloom_suite/progress.py``), from the taps' documented lines."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

import pytest

from bloom_suite import progress as progress_module
from bloom_suite.history import Pending
from bloom_suite.progress import PlainLines, RunProgress


def said(
    stream: str, pending: int | None, months: int | None = 3, account: str = "", span: tuple[str, str] | None = None
) -> Pending:
    """A tap's ``HISTORY:`` line, as the runner parses it; ``span``: what is pending (from, to)."""
    since, until = span or (None, None)
    line = json.dumps({
        "stream": stream, "shop": "s", "platform": None, "account_id": account or None,
        "months": months, "months_pending": pending, "pending_from": since, "pending_to": until,
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
    jan, feb, mar, apr = (f"2026-{month:02}-01T00:00:00Z" for month in (1, 2, 3, 4))
    run.history("sync-shopify", said("orders", 3, span=(jan, apr)))  # announced: 3 months owed, no line
    run.history("sync-shopify", said("orders", 3, span=(jan, apr)))  # the stream starts: still 3, no line
    run.history("sync-shopify", said("customers", 0, months=None))  # done before this run: not counted
    assert capsys.readouterr().out == ""
    clock[0] += 10
    run.records("sync-shopify", "orders", 500)
    run.history("sync-shopify", said("orders", 2, span=(jan, mar)))  # newest first: March read
    clock[0] += 10
    run.records("sync-shopify", "orders", 500)
    run.history("sync-shopify", said("orders", 1, span=(jan, feb)))
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "[progress] sync-shopify: orders 2026-03-01..2026-04-01, history 1 of 3 months, 500 records (50/s), "
        "about 20 s left",
        "[progress] sync-shopify: orders 2026-02-01..2026-03-01, history 2 of 3 months, 1,000 records (50/s), "
        "about 10 s left",
    ]
    clock[0] += 29
    run.tick()
    assert capsys.readouterr().out == ""  # quiet for less than 30 s
    clock[0] += 1
    run.tick()
    assert capsys.readouterr().out.startswith("[progress] sync-shopify: orders 2026-02-01..2026-03-01, history 2 of 3")
    clock[0] += 5
    run.history("sync-shopify", said("orders", 0, months=None))  # January: nothing pending, no longer counted
    run.end("sync-shopify", 0)
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == (
        "[progress] sync-shopify: done in 55 s, orders 2026-01-01..2026-02-01, history 3 of 3 months, "
        "1,000 records (18/s)"
    )


def test_accounts_add_up_and_a_failure_says_its_exit_code(clock, capsys) -> None:
    run = RunProgress(PlainLines())
    run.start("sync-ads")
    pending = ("2024-11-16", "2026-11-30")
    run.history("sync-ads", said("ad_spend_daily", 25, months=25, account="1", span=pending))
    run.history("sync-ads", said("ad_spend_daily", 25, months=25, account="2", span=pending))
    clock[0] += 4
    # Oldest first: the first (partial) month read, the start moves on.
    run.history("sync-ads", said("ad_spend_daily", 24, months=25, account="1", span=("2024-12-01", "2026-11-30")))
    run.end("sync-ads", 1)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("[progress] sync-ads: ad_spend_daily 2024-11-16..2024-12-01, history 1 of 50 months, 0 ")
    assert lines[0].endswith("about 3 min left")  # 49 months at 4 s each
    assert lines[1].startswith("[progress] sync-ads: failed (exit code 1) in 4 s, ad_spend_daily 2024-11-16..")


BARS_SCRIPT = """
import json, time
from bloom_suite.history import Pending
from bloom_suite.progress import RunProgress

def said(pending):
    line = {"stream": "orders", "shop": "s", "platform": None, "account_id": None, "months": 3,
            "months_pending": pending, "pending_from": None, "pending_to": None}
    return Pending.parse("tap-shopify-bloom", "HISTORY: " + json.dumps(line))

run = RunProgress()  # chooses by whether stdout is a terminal
print(type(run.display).__name__, flush=True)
run.start("sync-shopify")
for pending in (3, 2, 1):
    run.history("sync-shopify", said(pending))
    run.records("sync-shopify", "orders", 100)
    time.sleep(0.4)  # rich redraws 4 times a second
run.end("sync-shopify", 0)
run.stop()
"""


def test_bars_redrawn_in_place_in_a_terminal() -> None:
    """In a terminal (a real pseudo-terminal here) the runner draws rich's bars, redrawn in place, no plain lines."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen([sys.executable, "-c", BARS_SCRIPT], stdout=terminal, stderr=terminal)
    os.close(terminal)
    output = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed: the script has ended
            break
        if not chunk:
            break
        output += chunk
    os.close(controller)
    assert process.wait(timeout=30) == 0, output
    text = output.decode(errors="replace")
    assert "Bars\r\n" in text, text  # RunProgress chose the bars
    assert "[progress]" not in text
    assert "history 1 of 3 months" in text  # redrawn as the months go by
    assert "history 2 of 3 months" in text
    assert "done in" in text
    assert "━" in text  # the bar
    assert "\x1b[" in text  # cursor control: lines redrawn in place, not appended
