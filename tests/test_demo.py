"""`make demo`'s runner, `bloom-demo`, end to end on the embedded Postgres: twice, the second run incremental."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from _helpers import project

from bloom_suite.processes import free_port

SUMMARY_FIGURES = (
    "orders", "net sales", "cogs", "shipping charged", "shipping costs", "unattributed shipping", "handling",
    "transaction fees", "third-party fees", "ad spend", "operating expenses", "net profit",
)  # fmt: skip


def run_demo(workdir: Path, port: int, as_of: str) -> str:
    env = dict(os.environ)
    env.pop("MELTANO_DATABASE_URI", None)
    # Both runs' reports and summaries end on the same shop day, even if the runs straddle the
    # shop's midnight.
    env["BLOOM_REPORTS_AS_OF"] = as_of
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    done = subprocess.run(
        [Path(sys.executable).parent / "bloom-demo", "--orders", "300", "--workdir", workdir, "--pg-port", str(port)],
        cwd=project(), env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, f"bloom-demo failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done.stdout


def synced(output: str) -> dict[str, int]:
    (line,) = re.findall(r"records synced this run: (.*)", output)
    return {tap: int(count.replace(",", "")) for tap, count in re.findall(r"(\S+) ([\d,]+)", line)}


def summary(output: str) -> dict[str, str]:
    return dict(re.findall(rf"^  ({'|'.join(SUMMARY_FIGURES)})\s+(\S+)$", output, flags=re.MULTILINE))


@pytest.fixture(scope="module")
def two_runs() -> Iterator[tuple[str, str]]:
    # Not under pytest's temp root: a new pytest session closes that to others (0700), and
    # as root the embedded server runs as another user.
    workdir = Path(tempfile.mkdtemp(prefix="bloom-demo-test-"))
    port = free_port()
    try:
        as_of = datetime.now(UTC).isoformat()
        yield run_demo(workdir, port, as_of), run_demo(workdir, port, as_of)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def test_the_demo_prints_the_profit_summary_from_what_it_synced(two_runs):
    first, _ = two_runs
    assert "Profit summary for bloom-demo, last 30 days" in first
    # A first run shows the last 7 days' reports before it fetches the history.
    assert first.index("first reports ready after") < first.index("Profit summary for bloom-demo, last 7 days")
    assert first.index("last 7 days") < first.index("now the history")
    figures = summary(first)
    assert set(figures) == set(SUMMARY_FIGURES), first[-2000:]
    assert int(figures["orders"]) > 0
    # Every figure of net profit is printed: the lines add up to it.
    amounts = {name: Decimal(value.replace(",", "")) for name, value in figures.items() if name != "orders"}
    assert sum(amount for name, amount in amounts.items() if name != "net profit") == amounts["net profit"]
    # Progress was visible without a terminal: plain lines per finished history month, counting
    # the months up to all of them, and the end of each source; then dbt's tally.
    history = first[first.index("now the history") :]
    for job in ("sync-shopify", "sync-ads", "sync-shipping"):
        lines = re.findall(rf"^\[progress\] {job}: (.*)$", history, flags=re.MULTILINE)
        assert lines, history[-3000:]
        assert lines[-1].startswith("done in "), lines[-1]
        counts = [tuple(map(int, m)) for m in re.findall(r"history (\d+) of (\d+) months", "\n".join(lines))]
        done, total = counts[-1]
        assert done == total > 0, lines
        assert [n for n, _ in counts] == sorted(n for n, _ in counts), lines  # never back
        if job != "sync-shipping":  # the others announce every stream's history before reading any
            assert {t for _, t in counts} == {total}, lines
    shopify = re.findall(
        r"^\[progress\] sync-shopify: (\w+) (\S+), history (\d+) of", history, flags=re.MULTILINE
    )  # fmt: skip
    assert len({int(n) for _, _, n in shopify}) >= 24, shopify  # a line per month of 2 years, at least
    # Each names the window it read: dates, at most a month apart.
    for _, window, _ in shopify:
        since, until = map(date.fromisoformat, window.split(".."))
        assert 0 < (until - since).days <= 31, window
    assert re.search(r"^  dbt-postgres +.*Done\. PASS=", first, flags=re.MULTILINE)


def test_the_three_taps_sync_side_by_side(two_runs):
    first, _ = two_runs
    taps = synced(first)
    assert set(taps) == {"tap-shopify-bloom", "tap-adplatforms", "tap-shipping"}
    assert all(count > 0 for count in taps.values()), taps
    assert "sync-shopify+sync-ads+sync-shipping" in first


def test_a_second_run_is_incremental_and_reports_the_same(two_runs):
    first, second = two_runs
    assert "incremental sync" in second
    before, after = synced(first), synced(second)
    # Same store, same day: the Shopify tap fetches only its live window, not the history.
    assert after["tap-shopify-bloom"] < before["tap-shopify-bloom"] / 5, (before, after)
    assert summary(second) == summary(first)
