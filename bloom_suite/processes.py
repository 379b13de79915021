"""Start and stop the local services the demo, the tests and the benchmarks need."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bloom_suite.stopping import deferred

#: The checkout this package was installed from (editable install): the project the copies copy.
CHECKOUT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Sandbox:
    """A running ``bloom-sandbox serve`` subprocess."""

    url: str
    process: subprocess.Popen[bytes]

    def get(self, path: str) -> object:
        """GET a control endpoint and parse its JSON."""
        with urllib.request.urlopen(f"{self.url}{path}", timeout=60) as answer:  # noqa: S310 (loopback)
            return json.load(answer)

    def post(self, path: str, payload: object) -> object:
        """POST JSON to a control endpoint and parse the answer."""
        request = urllib.request.Request(  # noqa: S310 (loopback)
            f"{self.url}{path}",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=300) as answer:  # noqa: S310
            return json.load(answer)


@contextmanager
def running_sandbox(
    *,
    seed: int,
    orders: int,
    now: str,
    port: int | None = None,
    log_path: Path | None = None,
    plan: str = "standard",
    bulk_scale: float | None = None,
) -> Iterator[Sandbox]:
    """Run the sandbox as a subprocess until the block ends.

    ``plan`` is the Shopify plan (its rate limit); ``bulk_scale`` the seconds a bulk operation
    runs per 1,000 objects (``None``: the sandbox's default).
    """
    port = port or free_port()
    command = [
        sys.executable,
        "-m",
        "bloom_sandbox.cli",
        "serve",
        "--port",
        str(port),
        "--seed",
        str(seed),
        "--orders",
        str(orders),
        "--now",
        now,
        "--plan",
        plan,
    ]
    if bulk_scale is not None:
        command += ["--bulk-scale", str(bulk_scale)]
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 (closed below)
    with deferred():  # a stop signal (stopping.py) waits until the block below would stop the sandbox
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        sandbox = Sandbox(url=f"http://127.0.0.1:{port}", process=process)
    try:
        _wait_until_healthy(sandbox)
        yield sandbox
    finally:
        with deferred():
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if log_path:
                log.close()  # type: ignore[union-attr]


def _wait_until_healthy(sandbox: Sandbox, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sandbox.process.poll() is not None:
            raise RuntimeError(f"the sandbox exited with code {sandbox.process.returncode} before serving")
        try:
            sandbox.get("/_sandbox/health")
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the sandbox did not answer on {sandbox.url} within {timeout:.0f} s")


def meltano_env(**overrides: str) -> dict[str, str]:
    """The environment for a ``meltano`` subprocess: this one plus ``overrides``."""
    env = dict(os.environ)
    env.update(overrides)
    return env


def isolated_project(folder: Path, root: Path = CHECKOUT) -> Path:
    """A copy of the Meltano project ``root`` in ``folder`` that shares ``root``'s installed plugins.

    Meltano keeps each running plugin's config, catalog and state files in ``.meltano/run/<plugin>/``
    and dbt writes ``transform/target/``: two pipelines started from one project folder at once (a
    benchmark beside someone's tests, two test workers) delete or overwrite each other's files. The
    copy has its own ``meltano.yml`` and ``transform/`` and links to the plugins' virtualenvs, which
    still run the checkout's taps (editable installs).
    """
    project = folder / "project"
    project.mkdir()
    shutil.copy2(root / "meltano.yml", project / "meltano.yml")
    shutil.copytree(root / "transform", project / "transform", ignore=shutil.ignore_patterns("target", "logs"))
    (project / ".meltano").mkdir()
    for kind in ("extractors", "loaders", "utilities"):
        (project / ".meltano" / kind).symlink_to(root / ".meltano" / kind)
    return project
