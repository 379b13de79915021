"""How long each of the pipeline's programs takes to start, and whether its install holds compiled bytecode.

Usage: .venv/bin/python bench/starts.py [--root CHECKOUT] [--runs R]

Every pass of the pipeline starts a meltano per job, a tap and a target-postgres per source and
a dbt: their start (imports) is a fixed cost of every run, the first 7-day reports' included.
Each command below only starts and exits (``--version`` / ``--about``); wall seconds, median of
``--runs``, with the number of ``.pyc`` files in the environment it imports from. Where
``PYTHONDONTWRITEBYTECODE`` is set (printed), Python never caches what it compiles, so an
install without ``.pyc`` files compiles its imports again at every start. ``--root`` times
another checkout's installs (``make install`` there), e.g. one from before ``UV_COMPILE_BYTECODE``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
from pathlib import Path

from benchlib import ROOT, load_average, machine, median, now_stamp, spread

# (name, environment folder relative to the checkout, command relative to it)
PROGRAMS = (
    ("meltano", ".venv", (".venv/bin/meltano", "--version")),
    ("tap-shopify-bloom", ".meltano/extractors/tap-shopify-bloom/venv", ("{venv}/bin/tap-shopify-bloom", "--about")),
    ("tap-adplatforms", ".meltano/extractors/tap-adplatforms/venv", ("{venv}/bin/tap-adplatforms", "--about")),
    ("tap-shipping", ".meltano/extractors/tap-shipping/venv", ("{venv}/bin/tap-shipping", "--about")),
    ("target-postgres", ".meltano/loaders/target-postgres/venv", ("{venv}/bin/target-postgres", "--about")),
    ("dbt", ".meltano/utilities/dbt-postgres/venv", ("{venv}/bin/dbt", "--version")),
)


def start_seconds(command: list[str], cwd: Path) -> float:
    started = time.monotonic()
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose installs to time")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    root = args.root.resolve()
    print(f"[bench] {machine()}; load {load_average()}")
    seconds: dict[str, list[float]] = {name: [] for name, _, _ in PROGRAMS}
    for _ in range(args.runs):  # the programs in turn, so a busy moment spreads over all of them
        for name, venv, command in PROGRAMS:
            seconds[name].append(start_seconds([part.format(venv=root / venv) for part in command], root))
    flag = os.environ.get("PYTHONDONTWRITEBYTECODE") or "not set"
    print(f"| {root}, PYTHONDONTWRITEBYTECODE {flag}, {now_stamp()} | start, s | .pyc files |")
    print("|---|---|---|")
    for name, venv, command in PROGRAMS:
        compiled = sum(1 for _ in (root / venv).rglob("*.pyc"))
        print(f"| `{name} {command[1]}` | {spread(seconds[name], '{:.2f}')} | {compiled:,} |")
    total = sum(median(values) for values in seconds.values())
    print(f"| all six, medians summed | {total:.1f} | |")


if __name__ == "__main__":
    main()
