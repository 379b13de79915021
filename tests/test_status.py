"""``bloom-sync status`` on a real pipeline: the sandbox, PostgreSQL, meltano and dbt.

The tests share one store and warehouse and run in order: a good sync, a sync killed with
SIGKILL and the good run after it, three days of the store without a sync, then a revoked token.

Freshness is dbt's ``source freshness``: the newest row's own time (an order's ``updated_at``, a
label's ``created_at``, an ad day) against the reports' moment (``transform/macros/freshness.sql``).
Both are on the store's clock: the rows' times are the sandbox's, and the tests set
``BLOOM_REPORTS_AS_OF`` to the sandbox's now (``conftest.Pipeline.env``), as for the reports. Moving
the sandbox three days on without a sync is then, for dbt, three days without a sync; the load
times (``_sdc_batched_at``) are the real clock's, which a test cannot move.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _faults import clear_faults, faults
from _helpers import leaks, project
from conftest import MELTANO, Pipeline, _pipeline

ORDERS = 1500  # a shop whose orders change every day: a smaller one rests for days at a time
FRESHNESS = {("shopify", "orders"), ("ads", "ad_spend_daily"), ("shipping", "shipping_labels")}
BLOOM_SYNC = str(MELTANO.parent / "bloom-sync")
# The demo environment's credentials (meltano.yml) and the warehouse password it passes.
SECRETS = ("shpat_sandbox_token", "meta_sandbox_token", "google_sandbox_developer_token",
           "google_sandbox_client_secret", "google_sandbox_refresh_token", "tiktok_sandbox_token", "ss_sandbox_key",
           "ss_sandbox_secret", "shippo_live_sandbox", "trust-auth-ignores-it")  # fmt: skip


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """A store of its own (the tests kill, revoke and move the clock), synced once by bloom-sync."""
    with _pipeline(tmp_path_factory.mktemp("status"), "bloom_status", ORDERS) as own:
        own.bloom_sync()
        yield own


def status(pipeline: Pipeline, *args: str) -> tuple[int, dict, str]:
    """``bloom-sync --environment=demo status --json`` and the text form: exit code, JSON, text."""
    done = subprocess.run(
        [BLOOM_SYNC, "--environment=demo", "status", "--json", *args],
        cwd=project(), env=pipeline.env(), capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr[-3000:]
    found = json.loads(done.stdout)
    text = subprocess.run(
        [BLOOM_SYNC, "status", "--environment=demo", *args],
        cwd=project(), env=pipeline.env(), capture_output=True, text=True, check=False, timeout=600,
    ).stdout  # fmt: skip
    with (pipeline.workdir / "status.txt").open("a") as kept:
        kept.write(text + "\n")
    return done.returncode, found, text


def sync(pipeline: Pipeline) -> subprocess.CompletedProcess[str]:
    """``bloom-sync --environment=demo``, whatever its exit code.

    Forced: after the killed run, Meltano marks its jobs as running for 5 minutes (README,
    Troubleshooting); no other run is alive here.
    """
    return subprocess.run(
        [BLOOM_SYNC, "--environment=demo"], cwd=project(), env={**pipeline.env(), "MELTANO_RUN_FORCE": "true"},
        capture_output=True, text=True, check=False, timeout=1800,
    )  # fmt: skip


def freshness(found: dict) -> dict[tuple[str, str], str]:
    return {(name, t["table"]): t["status"] for name, s in found["sources"].items() for t in s["freshness"]}


def test_after_a_good_run_every_source_is_good(store):
    code, found, text = status(store)
    assert code == 0, found["problems"]
    assert found["problems"] == []
    for name in ("shopify", "ads", "shipping", "reports"):
        source = found["sources"][name]
        assert source["last_outcome"] == "succeeded", name
        assert source["last_success"]["age"].endswith("min ago")
        assert source["last_failure"] is None
    assert found["sources"]["shopify"]["accounts"] == ["bloom-demo"]
    assert found["sources"]["shopify"]["last_success"]["records"] > ORDERS
    assert found["sources"]["shopify"]["history"]["months_pending"] == 0
    spans = {name: found["sources"][name]["history"]["data"] for name in ("shopify", "ads", "shipping")}
    assert spans["shopify"]["table"] == "raw_shopify.orders"
    assert all(span["from"] < span["to"] for span in spans.values()), spans
    assert freshness(found) == dict.fromkeys(FRESHNESS, "pass")
    (daily,) = found["next_runs"]
    assert (daily["schedule"], daily["job"], daily["cron"]) == ("daily-sync", "sync-all", "0 0 * * *")
    assert daily["at"].endswith("T00:00:00+00:00")
    assert "last success" in text
    assert "status: all good (exit code 0)" in text


def test_a_run_killed_with_sigkill_shows_as_killed_until_the_next_good_run(store):
    with subprocess.Popen(
        [BLOOM_SYNC, "--environment=demo"], cwd=project(), env=store.env(), start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    ) as run:  # fmt: skip
        assert run.stdout is not None
        for line in run.stdout:  # the three sources have started
            if "(side by side)" in line:
                break
        time.sleep(5)
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
    deadline = time.monotonic() + 10  # the server drops the run's session asynchronously
    while time.monotonic() < deadline:
        code, found, text = status(store, "--no-freshness")
        if found["sources"]["shopify"]["last_outcome"] == "killed":
            break
    assert code == 1
    for name in ("shopify", "ads", "shipping"):
        assert found["sources"][name]["last_outcome"] == "killed", name
        assert "killed" in found["sources"][name]["last_failure"]["message"]
        assert "MELTANO_RUN_FORCE=true" in found["sources"][name]["last_failure"]["what_to_do"]
    assert "shopify's last run killed" in found["problems"]
    assert "last killed" in text

    # Meltano still marks the killed jobs as running for 5 minutes: the next run forces them (README).
    again = sync(store)
    assert again.returncode == 0, again.stdout[-3000:]
    code, found, _text = status(store)
    assert code == 0, found["problems"]
    assert found["sources"]["shopify"]["last_failure"]["outcome"] == "killed"  # still told, no longer a problem


def test_data_goes_stale_when_the_store_moves_three_days_without_a_sync(store):
    """Three days of the store without a sync: every source is stale. A sync then brings Shopify's
    orders and the labels up to the store's now; tap-adplatforms reads account days only up to this
    machine's today, which the sandbox's clock is now three days ahead of, so the ad days stay
    behind (as a real account's would behind a machine whose clock is late) and status stays 1."""
    store.sandbox.post("/_sandbox/advance", {"days": 3})
    code, found, text = status(store)
    assert code == 1
    assert freshness(found) == dict.fromkeys(FRESHNESS, "error")
    assert "shopify.orders freshness: error" in found["problems"]
    assert found["sources"]["shopify"]["last_outcome"] == "succeeded"  # the runs were fine: the data is old
    assert "freshness      orders: error" in text
    again = sync(store)
    assert again.returncode == 0, again.stdout[-3000:]
    code, found, _text = status(store)
    assert freshness(found) == {**dict.fromkeys(FRESHNESS, "pass"), ("ads", "ad_spend_daily"): "error"}
    assert found["problems"] == ["ads.ad_spend_daily freshness: error"]
    assert code == 1


def test_a_revoked_token_shows_its_message_and_fix(store):
    faults(store.sandbox, [{"type": "token_revoked", "always": True}])
    try:
        failed = sync(store)
    finally:
        clear_faults(store.sandbox)
    assert failed.returncode == 1, failed.stdout[-3000:]
    code, found, text = status(store, "--no-freshness")
    assert code == 1
    shopify = found["sources"]["shopify"]
    assert shopify["last_outcome"] == "failed"
    assert shopify["last_failure"]["message"].startswith(
        "tap-shopify-bloom: Shopify refused the access token (401: invalid or revoked)"
    )
    assert "set access_token" in shopify["last_failure"]["what_to_do"]
    assert "tap-shopify-bloom/README.md#troubleshooting" in shopify["last_failure"]["what_to_do"]
    assert found["sources"]["ads"]["last_outcome"] == "succeeded"
    assert "shopify's last run failed" in found["problems"]
    assert "Shopify refused the access token" in text
    assert "what to do" in text
    runs = "\n".join(row for (row,) in store.query("select t::text from bloom_sync.runs as t"))
    assert "shpat_" not in runs
    assert leaks(runs, SECRETS) == []
    truth = store.sandbox.get("/_sandbox/truth")
    personal = {value for provider in ("shipstation", "shippo") for kind in ("emails", "names")
                for value in truth[provider]["personal"][kind] if len(value) >= 8}  # fmt: skip
    assert personal, "a store with personal data to lose, or the test proves nothing"
    assert [value for value in personal if value in runs] == []


def test_status_says_when_the_warehouse_cannot_be_read(store, tmp_path: Path):
    done = subprocess.run(
        [BLOOM_SYNC, "--environment=demo", "status"], cwd=project(), env={**store.env(), "BLOOM_PG_PORT": "5999"},
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 2
    assert "cannot reach PostgreSQL at 127.0.0.1:5999" in done.stderr
