"""Fixtures: a real sandbox over real HTTP, on a free 127.0.0.1 port, per module or per test."""

from __future__ import annotations

import json
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
