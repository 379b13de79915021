"""Reports started ahead of the loads' end (``run_pipeline`` given the warehouse, as ``make demo`` does).

dbt starts once the first source has loaded and waits in its first hook for the loads'
advisory lock (``bloom_suite/loads_lock.py``): its reports hold every row the slowest tap
loaded, and when a source fails meanwhile it is stopped before it builds anything.
"""

from __future__ import annotations

from _faults import faults
from _helpers import project

from bloom_suite.demo import FIRST_REPORTS, RECENT_ONLY
from bloom_suite.runner import RunReport, run_pipeline


def _first_pass(pipeline, **env: str) -> tuple[RunReport, str]:
    """The demo's first pass (every tap's last 7 days, the reports untested), the reports started ahead."""
    log = pipeline.workdir / "meltano.log"
    report = run_pipeline(
        project(), "demo", {**pipeline.env(), **RECENT_ONLY, **env}, log, FIRST_REPORTS, warehouse=pipeline.dsn
    )
    return report, log.read_text()


def _sessions(pipeline) -> list[tuple]:
    """Other sessions on the warehouse database: the runner's lock and dbt's connections, if left."""
    return pipeline.query(
        "select application_name, state from pg_stat_activity where datname = current_database() "
        "and pid <> pg_backend_pid()"
    )


def test_reports_started_ahead_hold_everything_loaded(small_pipeline) -> None:
    """Every order and label the taps loaded is in the reports dbt started before the last load ended."""
    report, log = _first_pass(small_pipeline)
    assert report.ok, f"{report.failed_jobs()} failed:\n{log[-5000:]}"
    loaded = small_pipeline.query("select count(*) from raw_shopify.orders where not coalesce(test, false)")[0][0]
    assert loaded > 0
    assert small_pipeline.query("select count(*) from reports.orders_profit") == [(loaded,)]
    labels = small_pipeline.query("select count(*) from raw_shipping.shipping_labels")[0][0]
    assert labels > 0
    assert small_pipeline.query("select count(*) from analytics.stg_shipping__shipping_labels") == [(labels,)]
    assert _sessions(small_pipeline) == []


def test_a_failing_source_stops_the_reports_waiting_for_it(small_pipeline) -> None:
    """ShipStation answers 500 until the tap gives up (about 30 s): the reports started meanwhile are stopped."""
    faults(small_pipeline.sandbox, [{"type": "http_error", "status": 500, "path": "/shipstation", "always": True}])
    report, log = _first_pass(small_pipeline, TAP_SHIPPING_RETRY_INITIAL_SECONDS="2")
    assert report.returncodes["sync-shipping"] != 0
    assert report.returncodes["sync-ads"] == 0, log[-5000:]
    assert report.returncodes["sync-shopify"] == 0, log[-5000:]
    assert FIRST_REPORTS not in report.returncodes
    assert "Running with dbt=" in log  # dbt had started ahead
    built = small_pipeline.query(
        "select table_schema, table_name from information_schema.tables where table_schema in ('analytics', 'reports')"
    )
    assert built == []
    assert _sessions(small_pipeline) == []
    runs = dict(small_pipeline.query("select job, outcome from bloom_sync.runs"))
    assert runs == {"sync-shopify": "succeeded", "sync-ads": "succeeded", "sync-shipping": "failed",
                    FIRST_REPORTS: "failed"}  # fmt: skip
    ((error, fix),) = small_pipeline.query(
        "select error, troubleshooting from bloom_sync.runs where job = 'sync-shipping'"
    )
    assert error.startswith("tap-shipping: ShipStation account"), error
    assert "README.md#troubleshooting" in fix
