"""Run the whole pipeline with the sources side by side: each source's job at once, then the reports.

``meltano run sync-all`` runs its blocks one after another; the three sources' data are
independent, so ``run_pipeline`` starts ``sync-shopify``, ``sync-ads`` and ``sync-shipping``
as three ``meltano run`` processes (each keeps its own state ID, as in ``sync-all``) and
builds the reports with ``build-reports`` once all three have loaded. Progress lines of
all of them go to the terminal, their whole output to one log file.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

# This virtualenv's meltano, else the one on PATH.
MELTANO = (
    str(Path(sys.executable).parent / "meltano") if (Path(sys.executable).parent / "meltano").exists() else "meltano"
)
SOURCE_JOBS = ("sync-shopify", "sync-ads", "sync-shipping")
REPORTS_JOB = "build-reports"

# Lines of meltano's log shown while it runs; the whole log goes to a file.
PROGRESS = re.compile(r"Beginning sync|window|so far|bulk|START|OK created|ERROR|Error|WARN|Completed|Run completed")
LOG_LINE = re.compile(r"^\S+Z \[\s*(?P<level>\w+)\s*\] (?P<plugin>\S+)\s+(?P<message>.*)$")
METRIC = re.compile(r"METRIC: (?P<json>\{.*\})\s*$")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class RunReport:
    """What one run did: exit codes per job, records per tap and stream, seconds per phase."""

    returncodes: dict[str, int] = field(default_factory=dict)
    records: Counter[tuple[str, str]] = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(code == 0 for code in self.returncodes.values())

    def failed_jobs(self) -> list[str]:
        return [job for job, code in self.returncodes.items() if code != 0]

    def records_by_tap(self) -> dict[str, int]:
        totals: Counter[str] = Counter()
        for (tap, _stream), count in self.records.items():
            totals[tap] += count
        return dict(totals)


class _Output:
    """One log file and the terminal, shared by the jobs' reader threads."""

    def __init__(self, log_path: Path, report: RunReport) -> None:
        self.log = log_path.open("a")
        self.report = report
        self.lock = threading.Lock()

    def line(self, line: str) -> None:
        with self.lock:
            self.log.write(line)
            match = LOG_LINE.match(line.rstrip())
            if not match:
                return
            metric = METRIC.search(match["message"])
            if metric:
                self._count(match["plugin"], metric["json"])
            elif PROGRESS.search(match["message"]):
                message = ANSI.sub("", match["message"])
                print(f"  {match['plugin']:<18} {message[:150]}", flush=True)

    def _count(self, plugin: str, payload: str) -> None:
        try:
            metric = json.loads(payload)
        except ValueError:
            return
        # Loaders count the same records again on their side.
        if metric.get("metric") == "record_count" and not plugin.startswith("target-"):
            self.report.records[(plugin, metric.get("tags", {}).get("stream", "?"))] += int(metric["value"])

    def close(self) -> None:
        self.log.close()


def _environment(environment: str | None) -> list[str]:
    return [f"--environment={environment}"] if environment else []


def _start(job: str, root: Path, environment: str | None, env: dict[str, str], output: _Output) -> tuple:
    process = subprocess.Popen(
        [MELTANO, *_environment(environment), "run", job],
        cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    reader = threading.Thread(target=lambda: [output.line(line) for line in process.stdout], daemon=True)
    reader.start()
    return process, reader


def _run_jobs(jobs: tuple[str, ...], root: Path, environment: str | None, env: dict[str, str], output: _Output) -> None:
    started = time.monotonic()
    running = {job: _start(job, root, environment, env, output) for job in jobs}
    for job, (process, reader) in running.items():
        output.report.returncodes[job] = process.wait()
        reader.join()
    output.report.seconds["+".join(jobs)] = time.monotonic() - started


def _prepare_system_database(root: Path, environment: str | None, env: dict[str, str], output: _Output) -> int:
    """Create or migrate Meltano's system database once: concurrent first runs would race to do it."""
    done = subprocess.run(
        [MELTANO, *_environment(environment), "state", "list"],
        cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    for line in done.stdout.splitlines(keepends=True):
        output.line(line)
    return done.returncode


def run_pipeline(
    root: Path, environment: str | None, env: dict[str, str], log_path: Path, reports: str = REPORTS_JOB
) -> RunReport:
    """Sync the three sources at once, then run ``reports`` (a job or a dbt command) if all of them loaded."""
    report = RunReport()
    output = _Output(log_path, report)
    try:
        report.returncodes["meltano state list"] = _prepare_system_database(root, environment, env, output)
        if not report.ok:
            return report
        print(f"[sync] meltano run {' | '.join(SOURCE_JOBS)} (side by side)", flush=True)
        _run_jobs(SOURCE_JOBS, root, environment, env, output)
        if not report.ok:
            return report
        print(f"[sync] meltano run {reports}", flush=True)
        _run_jobs((reports,), root, environment, env, output)
        return report
    finally:
        output.close()
