"""A local HTTP proxy in front of the sandbox that spoils chosen answers, for the bad-data tests.

It runs in pytest-httpserver, passes every request on to the sandbox over real HTTP and
hands the JSON answers of the requests ``picks`` chooses to ``spoil``, which returns the
body to send instead (``None``: as is).
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _helpers import run_tap
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bloom_suite.processes import Sandbox

Spoil = Callable[[Any], str | None]  # an answer's JSON -> the body to send instead (None: as is)
Picks = Callable[[Request], bool]  # whether a request's answer is handed to the spoiler
Keys = Callable[[list[dict]], set]  # Singer messages -> the keys of the records under test
SOAK = os.environ.get("BLOOM_SOAK") == "1"


def spoil_matrix(sources: list[str], spoils: list[tuple[str, Any]]) -> list[Any]:
    """pytest params (source, case, spoil): ``make soak`` (``BLOOM_SOAK``) every source with every spoil,
    ``make test`` one spoil per source, in turns (so that each spoil still runs on some source)."""
    return [pytest.param(source, case, spoil, id=f"{source}: {case}")
            for i, source in enumerate(sources) for n, (case, spoil) in enumerate(spoils)
            if SOAK or n == i % len(spoils)]  # fmt: skip


class Proxy:
    """Passes requests to the sandbox; spoils the answers of the requests ``picks`` chooses."""

    def __init__(self, server: HTTPServer, sandbox: Sandbox, picks: Picks) -> None:
        self.sandbox = sandbox
        self.picks = picks
        self.spoil: Spoil | None = None
        self.spoiled = 0
        server.expect_request(re.compile(".*")).respond_with_handler(self.handle)
        self.url = server.url_for("").rstrip("/")

    def handle(self, request: Request) -> Response:
        forwarded = urllib.request.Request(
            f"{self.sandbox.url}{request.full_path.rstrip('?')}", data=request.get_data() or None,
            headers={k: v for k, v in request.headers.items() if k.lower() not in {"host", "content-length"}},
            method=request.method,
        )  # fmt: skip
        try:
            with urllib.request.urlopen(forwarded, timeout=60) as answer:
                status, body, kind = answer.status, answer.read(), answer.headers.get("Content-Type")
                headers = dict(answer.headers.items())
        except urllib.error.HTTPError as error:
            status, body, kind, headers = error.code, error.read(), error.headers.get("Content-Type"), {}
        if self.spoil and status < 300 and self.picks(request):
            spoiled = self.spoil(json.loads(body))
            if spoiled is not None:
                self.spoiled += 1
                body = spoiled.encode()
        kept = {k: v for k, v in headers.items() if k.lower().startswith("x-")}  # rate-limit budgets
        return Response(body, status=status, content_type=kind, headers=kept)


def messages(stdout: str) -> list[dict]:
    """The Singer messages of a tap's output."""
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def last_state(msgs: list[dict]) -> dict:
    """The value of the last STATE message ({} if none)."""
    states = [m["value"] for m in msgs if m["type"] == "STATE"]
    return states[-1] if states else {}


def error_lines(stderr: str) -> list[str]:
    """The lines of a log that report an error."""
    return [line for line in stderr.splitlines() if "ERROR" in line or "Error" in line]


def records_but(msgs: list[dict], left_out: str) -> list[tuple[str, str]]:
    """Every RECORD as (stream, its JSON without the field ``left_out``), sorted: equal lists, equal runs."""
    return sorted((m["stream"], json.dumps({k: v for k, v in m["record"].items() if k != left_out}, sort_keys=True))
                  for m in msgs if m["type"] == "RECORD")  # fmt: skip


def clean_messages(tap: str, sandbox: Sandbox, tmp_path: Path, picks: Picks, config: Callable[[str], dict]) -> list:
    """The Singer messages a run of ``tap`` with ``config(proxy_url)`` emits through a clean proxy."""
    server = HTTPServer()
    server.start()
    try:
        proxy = Proxy(server, sandbox, picks)
        done = run_tap(tap, config(proxy.url), tmp_path)
    finally:
        server.stop()
    assert done.returncode == 0, done.stderr[-3000:]
    return messages(done.stdout)


def fails_then_recovers(
    tap: str,
    config: dict,
    proxy: Proxy,
    tmp_path: Path,
    keys: Keys,
    clean: set,
    expected: Callable[[], tuple[str, ...]],
) -> None:
    """Run ``tap`` through ``proxy`` (its spoiler set): it must fail with one error line holding every
    text ``expected()`` gives (asked after the run) and no stack trace. Then run it again from its last
    STATE through a clean proxy: together the two runs must emit every key of ``clean`` (what a clean run
    emits)."""
    done = run_tap(tap, config, tmp_path)
    assert done.returncode != 0, "the spoiled run did not fail"
    assert proxy.spoiled, "nothing was spoiled"
    assert "Traceback" not in done.stderr, f"a stack trace:\n{done.stderr[-2000:]}"
    lines, texts = error_lines(done.stderr), expected()
    assert any(all(text in line for text in texts) for line in lines), (texts, lines[-5:])
    first = messages(done.stdout)
    proxy.spoil = None
    state_file = tmp_path / "state.json"
    state_file.write_text(json.dumps(last_state(first)))
    again = run_tap(tap, config, tmp_path, "--state", str(state_file))
    assert again.returncode == 0, again.stderr[-3000:]
    lost = clean - keys(first) - keys(messages(again.stdout))
    assert not lost, f"{len(lost)} records were never emitted: the failed run's STATE went past them"
