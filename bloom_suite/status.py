"""``bloom-sync status``: is every source synced and fresh, and if not, what to do.

Per source (Shopify with its shop, the ad platforms and shipping providers with their accounts,
and the reports): the last successful run and its age, the last failure with its message and
the troubleshooting row it maps to, a run that was killed, the history loaded and still pending,
the freshness dbt measures (``dbt source freshness`` through Meltano, read from its
``sources.json``), and the next scheduled run. Runs come from ``bloom_sync.runs`` (``runs.py``).

Exit codes, for cron and CI: 0 when each source's last run succeeded and its data is fresh,
1 when something needs attention (a run failed or was killed, a source never ran, data older than
dbt's ``warn_after``, or freshness could not be measured), 2 when the warehouse cannot be read.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from bloom_suite.runs import read_runs
from bloom_suite.schedule import next_runs
from bloom_suite.troubleshooting import KILLED, scrub

SOURCES = ("shopify", "ads", "shipping", "reports")
FRESHNESS_COMMAND = "dbt-postgres:source-freshness"
OK, ATTENTION, UNREADABLE = 0, 1, 2
# The table and day of each source whose span says what history is in the warehouse.
SPANS = {
    "shopify": ("raw_shopify", "orders", "created_at"),
    "ads": ("raw_ads", "ad_spend_daily", "date"),
    "shipping": ("raw_shipping", "shipping_labels", "created_at"),
}


def _age(then: datetime | None, now: datetime) -> str:
    if then is None:
        return "never"
    seconds = max((now - then).total_seconds(), 0)
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h ago"
    return f"{seconds / 86400:.1f} days ago"


def _history(runs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The history a source's last successful run left pending, summed over its streams and accounts.

    ``runs``: the source's successful runs, newest first. A tap says how many months it owes in all
    only while it reads them, so each stream's and account's count comes from the latest run that said it.
    """
    if not runs:
        return None
    latest = runs[0]["history"]
    owed: dict[tuple[str, ...], int] = {}
    for run in reversed(runs):
        for row in run["history"]:
            if row.get("months") is not None:
                owed[_key(row)] = row["months"]
    pending = sum(row.get("months_pending") or 0 for row in latest)
    starts = [row["pending_from"] for row in latest if row.get("pending_from")]
    ends = [row["pending_to"] for row in latest if row.get("pending_to")]
    return {
        "months": sum(owed.get(_key(row), 0) for row in latest) if any(_key(row) in owed for row in latest) else None,
        "months_pending": pending,
        "pending_from": min(starts) if starts else None,
        "pending_to": max(ends) if ends else None,
        "loaded_to": runs[0]["ended_at"].isoformat(),
    }


def _key(row: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(row.get(name) or "") for name in ("plugin", "stream", "shop", "platform", "account_id"))


def _accounts(rows: list[dict[str, Any]]) -> list[str]:
    names = {row.get("shop") or " ".join(filter(None, (row.get("platform"), row.get("account_id")))) for row in rows}
    return sorted(name for name in names if name)


def _summarise(source: str, rows: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """A source's runs (newest first) as its status."""
    finished = [row for row in rows if row["outcome"] != "running"]
    success = next((row for row in finished if row["outcome"] == "succeeded"), None)
    failure = next((row for row in finished if row["outcome"] != "succeeded"), None)
    latest = finished[0] if finished else None
    return {
        "source": source,
        "accounts": _accounts(success["history"]) if success else [],
        "running_since": rows[0]["started_at"].isoformat() if rows and rows[0]["outcome"] == "running" else None,
        "last_outcome": latest["outcome"] if latest else None,
        "last_success": success and {
            "ended_at": success["ended_at"].isoformat(), "age": _age(success["ended_at"], now),
            "records": sum(success["records"].values()), "run_id": success["run_id"],
        },
        "last_failure": failure and {
            "outcome": failure["outcome"], "at": (failure["ended_at"] or failure["started_at"]).isoformat(),
            "age": _age(failure["ended_at"] or failure["started_at"], now),
            "message": failure["error"] or ("the run was killed before it ended (SIGKILL, OOM, power cut)"
                                            if failure["outcome"] == "killed" else None),
            "what_to_do": failure["troubleshooting"] or (
                KILLED.describe() if failure["outcome"] == "killed" else None),
            "run_id": failure["run_id"],
        },
        "history": None if source == "reports" else _history([r for r in finished if r["outcome"] == "succeeded"]),
        "freshness": [],
    }  # fmt: skip


def data_spans(conn: psycopg.Connection) -> dict[str, dict[str, str | None]]:
    """The first and last day of each source's main table (absent tables left out)."""
    spans = {}
    for source, (schema, table, column) in SPANS.items():
        exists = conn.execute("select to_regclass(%s) is not null", (f"{schema}.{table}",)).fetchone()
        if not (exists and exists[0]):
            continue
        query = sql.SQL("select min({c})::date::text, max({c})::date::text from {t}").format(
            c=sql.Identifier(column), t=sql.Identifier(schema, table)
        )
        first, last = conn.execute(query).fetchone() or (None, None)
        spans[source] = {"table": f"{schema}.{table}", "from": first, "to": last}
    return spans


def measure_freshness(
    meltano: str, root: Path, environment: str | None, env: Mapping[str, str]
) -> tuple[dict[str, list[dict[str, Any]]], str | None]:
    """dbt's freshness of each source's tables (by source name), and why it could not be measured."""
    target = root / ".bloom" / "status-dbt"  # its own: a build running meanwhile keeps transform/target
    target.mkdir(parents=True, exist_ok=True)
    (target / "sources.json").unlink(missing_ok=True)
    command = [meltano, *([f"--environment={environment}"] if environment else []), "invoke", FRESHNESS_COMMAND]
    done = subprocess.run(
        command, cwd=root, env={**env, "DBT_TARGET_PATH": str(target)}, capture_output=True, text=True, check=False
    )
    try:
        results = json.loads((target / "sources.json").read_text())["results"]
    except (OSError, ValueError, KeyError):
        lines = [line for line in (done.stdout + done.stderr).splitlines() if "rror" in line]
        return {}, scrub(lines[0] if lines else f"meltano invoke {FRESHNESS_COMMAND} exited with {done.returncode}")
    by_source: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        _, _, source, table = result["unique_id"].split(".", 3)
        by_source.setdefault(source, []).append({
            "table": table, "status": result["status"], "max_loaded_at": result.get("max_loaded_at"),
            "age_hours": None if result.get("max_loaded_at_time_ago_in_s") is None
            else round(result["max_loaded_at_time_ago_in_s"] / 3600, 1),
            "warn_after_hours": _hours((result.get("criteria") or {}).get("warn_after")),
            "error_after_hours": _hours((result.get("criteria") or {}).get("error_after")),
            "error": scrub(result["error"]) if result.get("error") else None,
        })  # fmt: skip
    return by_source, None


def _hours(threshold: Mapping[str, Any] | None) -> float | None:
    if not threshold or threshold.get("count") is None:
        return None
    return float(threshold["count"]) * {"minute": 1 / 60, "hour": 1, "day": 24}.get(threshold.get("period", "hour"), 1)


def problems_of(source: dict[str, Any]) -> list[str]:
    """What keeps ``source`` from being good: its last run, its freshness."""
    name, problems = source["source"], []
    if source["last_outcome"] is None:
        problems.append(f"{name} has no finished run recorded")
    elif source["last_outcome"] != "succeeded":
        problems.append(f"{name}'s last run {source['last_outcome']}")
    for table in source["freshness"]:
        if table["status"] != "pass":
            problems.append(f"{name}.{table['table']} freshness: {table['status']}")
    return problems


def gather(
    conninfo: Mapping[str, Any],
    environment: str | None,
    meltano: str,
    root: Path,
    env: Mapping[str, str],
    freshness: bool = True,
) -> dict[str, Any]:
    """The whole status as JSON-ready data, with its ``exit_code``."""
    now = datetime.now(UTC)
    with psycopg.connect(**conninfo) as conn:
        rows = read_runs(conn, environment or "default")
        spans = data_spans(conn)
    sources = {name: _summarise(name, [row for row in rows if row["source"] == name], now) for name in SOURCES}
    for name, span in spans.items():
        if sources[name]["history"] is not None:
            sources[name]["history"]["data"] = span
    freshness_error = None
    if freshness:
        measured, freshness_error = measure_freshness(meltano, root, environment, env)
        for name, tables in measured.items():
            if name in sources:
                sources[name]["freshness"] = tables
    problems = [problem for source in sources.values() for problem in problems_of(source)]
    if freshness_error:
        problems.append(f"freshness could not be measured: {freshness_error}")
    schedules = [
        {**asdict(run), "at": run.at.isoformat() if run.at else None}
        for run in next_runs(meltano, root, environment, env, now)
    ]
    return {
        "environment": environment or "default",
        "checked_at": now.isoformat(timespec="seconds"),
        "reports_as_of": os.environ.get("BLOOM_REPORTS_AS_OF") or None,
        "sources": sources,
        "next_runs": schedules,
        "problems": problems,
        "exit_code": ATTENTION if problems else OK,
    }


def _when(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _limit(hours: float | None) -> str:
    return "-" if hours is None else f"{hours:g} h"


def format_status(status: dict[str, Any]) -> str:
    """The status as text, a block per source."""
    lines = [f"bloom-sync status, environment {status['environment']}, {_when(status['checked_at'])}"]
    for source in status["sources"].values():
        accounts = f" ({', '.join(source['accounts'])})" if source["accounts"] else ""
        lines.append(f"\n{source['source']}{accounts}")
        if source["running_since"]:
            lines.append(f"  running        since {_when(source['running_since'])}")
        success, failure = source["last_success"], source["last_failure"]
        if success:
            records = f", {success['records']:,} records" if source["source"] != "reports" else ""
            lines.append(f"  last success   {_when(success['ended_at'])} ({success['age']}){records}")
        else:
            lines.append("  last success   never")
        if failure:
            lines.append(
                f"  last {failure['outcome']:<9} {_when(failure['at'])} ({failure['age']}): {failure['message']}"
            )
            if failure["what_to_do"]:
                lines.append(f"  what to do     {failure['what_to_do']}")
        history = source["history"]
        if history:
            months, pending = history["months"], history["months_pending"]
            loaded = f"{months - pending} of {months} months loaded" if months is not None else "loaded"
            loaded += f" to {_when(history['loaded_to'])}"
            if history.get("data"):
                data = history["data"]
                loaded += f"; {data['table']} holds {data['from']} to {data['to']}"
            span = "; none pending"
            if history["pending_to"]:
                start = history["pending_from"] or "the start"
                span = f"; {pending} months pending, from {start} to {history['pending_to']}"
            lines.append(f"  history        {loaded}{span}")
        for table in source["freshness"]:
            age = "no rows" if table["age_hours"] is None else f"newest row {table['age_hours']} h old"
            limits = f"warn after {_limit(table['warn_after_hours'])}, error after {_limit(table['error_after_hours'])}"
            error = f": {table['error']}" if table["error"] else ""
            lines.append(f"  freshness      {table['table']}: {table['status']}, {age} ({limits}){error}")
    for run in status["next_runs"]:
        at = _when(run["at"]) if run["at"] else "never"
        lines.append(f"\nnext scheduled run: {run['schedule']} ({run['job']}, cron '{run['cron']}') at {at}")
    verdict = "all good" if not status["problems"] else "needs attention: " + "; ".join(status["problems"])
    lines.append(f"\nstatus: {verdict} (exit code {status['exit_code']})")
    return "\n".join(lines)
