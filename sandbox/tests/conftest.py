"""Fixtures: a real sandbox over real HTTP, on a free 127.0.0.1 port, per module or per test."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from bloom_sandbox.testing import RunningSandbox, running_sandbox

NOW = datetime(2026, 11, 28, tzinfo=UTC)
TOKEN = "shpat_sandbox_token"
GRAPHQL = "/admin/api/2026-10/graphql.json"


@pytest.fixture(scope="session")
def shared() -> Iterator[RunningSandbox]:
    """A 2,000-order sandbox shared by tests that only read (never advance or set faults)."""
    with running_sandbox(seed=42, orders=2000, now=NOW) as sandbox:
        yield sandbox


@pytest.fixture
def fresh() -> Iterator[RunningSandbox]:
    """A small sandbox of its own, for tests that advance the clock, inject faults or throttle."""
    with running_sandbox(seed=7, orders=400, now=NOW, bulk_scale=0.01) as sandbox:
        yield sandbox


def http(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None, timeout: float = 30
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request: (status, headers, body); HTTP errors are returned, not raised."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def control(sandbox: RunningSandbox, method: str, action: str, body: Any = None) -> tuple[int, Any]:
    status, _headers, raw = http(method, f"{sandbox.url}/_sandbox/{action}", body)
    return status, json.loads(raw)


def gql(
    sandbox: RunningSandbox, query: str, variables: dict | None = None, token: str = TOKEN, version: str = "2026-10"
) -> tuple[int, dict[str, Any]]:
    """POST a GraphQL query to the Shopify emulator; (status, parsed body)."""
    status, _headers, raw = http(
        "POST",
        f"{sandbox.url}/admin/api/{version}/graphql.json",
        {"query": query, "variables": variables or {}},
        {"X-Shopify-Access-Token": token},
    )
    return status, json.loads(raw)


RUN = """mutation($q: String!) { bulkOperationRunQuery(query: $q) {
  bulkOperation { id status } userErrors { field message code } } }"""
POLL = """query($id: ID!) { node(id: $id) { ... on BulkOperation {
  id status errorCode objectCount rootObjectCount fileSize url partialDataUrl createdAt completedAt query } } }"""


def run(sandbox, query: str) -> dict:
    """Submit a bulk query; the ``bulkOperationRunQuery`` payload."""
    status, body = gql(sandbox, RUN, {"q": query})
    assert status == 200
    return body["data"]["bulkOperationRunQuery"]


def poll(sandbox, op_id: str) -> dict:
    return gql(sandbox, POLL, {"id": op_id})[1]["data"]["node"]


def wait(sandbox, op_id: str, timeout: float = 30) -> dict:
    """Poll a bulk operation until it ends; its final state."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        op = poll(sandbox, op_id)
        if op["status"] in ("COMPLETED", "FAILED", "CANCELED", "EXPIRED"):
            return op
        time.sleep(0.05)
    raise AssertionError(f"bulk operation {op_id} did not finish")


def download(url: str) -> list[dict]:
    """A bulk result file, parsed line by line."""
    status, _, raw = http("GET", url)
    assert status == 200
    return [json.loads(line) for line in raw.decode().splitlines()]
