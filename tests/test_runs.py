"""The record of every run in ``bloom_sync.runs`` (``bloom_suite/runs.py``), on the local PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import psycopg
import pytest
from _helpers import fresh_database

from bloom_suite.history import HistoryBook
from bloom_suite.runs import RunRecorder, read_runs
from bloom_suite.troubleshooting import row_for, scrub

PG_HOST = os.environ.get("BLOOM_TEST_PG_HOST", "127.0.0.1")
PG_PORT = os.environ.get("BLOOM_TEST_PG_PORT", "5432")
HISTORY = (
    'HISTORY: {"stream": "orders", "shop": "demo", "platform": null, "account_id": null, "months": 25, '
    '"months_pending": 24, "pending_from": null, "pending_to": "2026-11-30T12:00:00Z"}'
)
# A process that starts a job's row and then waits to be killed.
HOLDER = """
import sys, time
from bloom_suite.runs import RunRecorder
runs = RunRecorder({"conninfo": sys.argv[1]}, "demo")
runs.start("sync-shopify")
print(runs.run_id, flush=True)
time.sleep(600)
"""


@pytest.fixture
def warehouse() -> Iterator[dict[str, str]]:
    with fresh_database() as database:
        yield {"conninfo": f"host={PG_HOST} port={PG_PORT} user=postgres dbname={database}"}


def runs_of(warehouse: dict[str, str]) -> list[dict]:
    with psycopg.connect(**warehouse) as conn:
        return read_runs(conn, "demo")


def test_a_run_is_running_then_ends_with_its_records_history_and_error(warehouse):
    runs = RunRecorder(warehouse, "demo")
    runs.start("sync-shopify")
    runs.start("sync-ads")
    assert {row["job"]: row["outcome"] for row in runs_of(warehouse)} == {
        "sync-shopify": "running",
        "sync-ads": "running",
    }
    book = HistoryBook()
    book.note("sync-shopify", "tap-shopify-bloom", HISTORY)
    runs.end("sync-shopify", "succeeded", 0, {"orders": 12}, book.of("sync-shopify"))
    runs.end(
        "sync-ads",
        "failed",
        1,
        error="tap-adplatforms: Meta account act_1: Meta refused the request (error 190: bad access_token=EAAB1234)",
    )
    runs.close()
    rows = {row["job"]: row for row in runs_of(warehouse)}
    shopify, ads = rows["sync-shopify"], rows["sync-ads"]
    assert (shopify["source"], shopify["outcome"], shopify["records"]) == ("shopify", "succeeded", {"orders": 12})
    assert shopify["history"] == [
        {"plugin": "tap-shopify-bloom", "stream": "orders", "shop": "demo", "months": 25, "months_pending": 24,
         "pending_to": "2026-11-30T12:00:00Z"}
    ]  # fmt: skip
    assert shopify["ended_at"] >= shopify["started_at"]
    assert (ads["outcome"], ads["exit_code"]) == ("failed", 1)
    assert "EAAB1234" not in ads["error"]
    assert "error 190" in ads["error"]
    assert "meta_access_token" in ads["troubleshooting"]
    assert "tap-adplatforms/README.md" in ads["troubleshooting"]


def test_a_run_killed_with_sigkill_reads_as_killed_not_running(warehouse):
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, warehouse["conninfo"]], stdout=subprocess.PIPE, text=True
    ) as holder:
        assert holder.stdout is not None
        run_id = holder.stdout.readline().strip()
        assert [(row["run_id"], row["outcome"]) for row in runs_of(warehouse)] == [(run_id, "running")]
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    deadline = time.monotonic() + 10  # the server notices the closed socket at once, but asynchronously
    while runs_of(warehouse)[0]["outcome"] == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert runs_of(warehouse)[0]["outcome"] == "killed"


def test_recording_never_fails_the_run(capsys):
    runs = RunRecorder({"conninfo": f"host={PG_HOST} port={PG_PORT} user=postgres dbname=no_such_db_here"}, "demo")
    runs.start("sync-shopify")
    runs.end("sync-shopify", "succeeded", 0)
    runs.close()
    out = capsys.readouterr().out
    assert out.count("warning: this run is not recorded") == 1


@pytest.mark.parametrize(
    "message",
    [
        "refused shpat_0123456789abcdef and password=hunter2hunter2",
        "Authorization: Bearer abcdefghijklmnop",
        "postgresql://loader:s3cretpass@db.example.com/bloom",
        "customer jane.doe@example.com not found",
        '{"refresh_token": "1//0gAbCdEf"}',
    ],
)
def test_scrub_masks_secrets_and_emails(message):
    for secret in ("shpat_0123", "hunter2", "abcdefghijklmnop", "s3cretpass", "jane.doe", "0gAbCdEf"):
        assert secret not in scrub(message)


def test_a_revoked_shopify_token_maps_to_its_row():
    row = row_for("tap-shopify-bloom: Shopify refused the access token (401: invalid or revoked). Create ...")
    assert row.guide == "tap-shopify-bloom/README.md#troubleshooting"
    assert "access_token" in row.fix
    assert row_for("something new").guide == "README.md#troubleshooting"


def test_a_source_s_last_success_is_read_however_many_failures_came_after(warehouse):
    for outcome in ("succeeded", "failed", "failed", "failed"):
        runs = RunRecorder(warehouse, "demo")
        runs.start("sync-ads")
        runs.end("sync-ads", outcome, 0 if outcome == "succeeded" else 1, error="boom")
        runs.close()
    with psycopg.connect(**warehouse) as conn:
        rows = read_runs(conn, "demo", per_source=2)
    assert [row["outcome"] for row in rows] == ["failed", "failed", "succeeded"]
