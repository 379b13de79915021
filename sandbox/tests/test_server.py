"""The server: control endpoints, routing, generic faults, the CLI as a subprocess."""

from __future__ import annotations

import http.client as httpclient
import json
import socket
import time
from decimal import Decimal

import pytest
from bloom_sandbox.registry import API_MODULES, close_apis, load_apis
from bloom_sandbox.testing import sandbox_process
from conftest import GRAPHQL, TOKEN, control, gql, http

SHOP_QUERY = "{ shop { name } }"


def test_health_lists_the_mounted_apis(shared):
    status, body = control(shared, "GET", "health")
    assert status == 200
    assert body["status"] == "ok"
    assert body["apis"]["shopify"] == "/admin"
    assert body["now"] == "2026-11-28T00:00:00Z"


def test_registry_loads_every_present_module(shared):
    assert API_MODULES[0] == "bloom_sandbox.shopify"
    apis = load_apis(shared.world)
    close_apis(apis)
    assert "shopify" in [api.name for api in apis]


def test_unknown_paths_are_404(shared):
    status, _, body = http("GET", f"{shared.url}/nowhere")
    assert status == 404
    status, _, body = http("GET", f"{shared.url}/_sandbox/nothing")
    assert status == 404
    assert b"no control endpoint" in body


def test_truth_has_shopify_at_top_level(shared):
    status, truth = control(shared, "GET", "truth")
    assert status == 200
    assert truth["shop"]["iana_timezone"] == "America/New_York"
    assert truth["counts"]["orders"] == 2000
    assert set(truth["totals"]) >= {"orders", "gross_sales", "net_sales", "cogs", "transaction_fees", "payouts"}


def test_stats_count_requests_and_points(fresh):
    gql(fresh, SHOP_QUERY)
    gql(fresh, "{ orders(first: 10) { nodes { id } } }")
    status, stats = control(fresh, "GET", "stats")
    assert status == 200
    assert stats["requests"] >= 2
    shopify = stats["shopify"]
    assert shopify["graphql_queries"] == 2
    assert shopify["points_requested"] == 1 + 6  # shop object 1; a connection of 10 scalar nodes 6
    assert shopify["points_spent"] <= shopify["points_requested"]
    assert shopify["throttled"] == 0
    assert shopify["bulk_created"] == 0


def test_advance_moves_the_clock_and_checks_its_body(fresh):
    _, before = control(fresh, "GET", "truth")
    status, body = control(fresh, "POST", "advance", {"days": 3})
    assert status == 200
    assert body["now"] == "2026-12-01T00:00:00Z"
    _, after = control(fresh, "GET", "truth")
    assert after["counts"]["orders"] > before["counts"]["orders"]
    _, health = control(fresh, "GET", "health")
    assert health["now"] == "2026-12-01T00:00:00Z"
    for bad in ({"days": 0}, {"days": "3"}, {}, [3]):
        status, body = control(fresh, "POST", "advance", bad)
        assert status == 400
        assert "days" in body["error"]


def test_http_error_fault_uses_shopifys_body_and_counts_down(fresh):
    status, body = control(fresh, "POST", "faults", {"faults": [{"type": "http_error", "status": 500, "count": 2}]})
    assert status == 200
    assert body["faults"][0]["remaining"] == 2
    for _ in range(2):
        status, body = gql(fresh, SHOP_QUERY)
        assert status == 500
        assert body == {"errors": "An unexpected error occurred"}
    status, body = gql(fresh, SHOP_QUERY)
    assert status == 200
    assert body["data"]["shop"]["name"]


def test_faults_are_scoped_by_path_prefix_and_cleared(fresh):
    control(
        fresh, "POST", "faults", [{"type": "http_error", "status": 503, "path": "/admin/api/2026-07", "always": True}]
    )
    assert gql(fresh, SHOP_QUERY, version="2026-07")[0] == 503
    assert gql(fresh, SHOP_QUERY, version="2026-07")[0] == 503
    assert gql(fresh, SHOP_QUERY, version="2026-10")[0] == 200
    status, body = control(fresh, "DELETE", "faults")
    assert status == 200
    assert body["faults"] == []
    assert gql(fresh, SHOP_QUERY, version="2026-07")[0] == 200


def test_bad_fault_descriptions_are_refused(fresh):
    for bad in (
        [{"type": "explode"}],
        [{"type": "http_error", "status": 418}],
        [{"type": "slow"}],
        [{"type": "reset", "count": 0}],
        [{"type": "bulk_failed", "error_code": "OOPS"}],
        [{"type": "http_error", "status": 500}, {"type": "explode"}],
        {"faults": "reset"},
    ):
        status, body = control(fresh, "POST", "faults", bad)
        assert status == 400, bad
        assert body["error"]
    assert control(fresh, "GET", "faults")[1]["faults"] == []
    assert gql(fresh, SHOP_QUERY)[0] == 200, "a refused fault list leaves no fault active"


def test_slow_fault_delays_past_a_client_timeout(fresh):
    control(fresh, "POST", "faults", [{"type": "slow", "seconds": 1.5}])
    started = time.monotonic()
    try:
        http("POST", f"{fresh.url}{GRAPHQL}", {"query": SHOP_QUERY}, {"X-Shopify-Access-Token": TOKEN}, timeout=0.5)
        raise AssertionError("expected a timeout")
    except TimeoutError:
        pass
    assert time.monotonic() - started < 1.4
    status, _ = gql(fresh, SHOP_QUERY)
    assert status == 200


def raw_request(url: str, body: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(
            b"POST " + GRAPHQL.encode() + b" HTTP/1.1\r\nHost: x\r\nX-Shopify-Access-Token: " + TOKEN.encode()
            + b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )  # fmt: skip
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            chunks.append(b"<RESET>")
        return b"".join(chunks)


def test_reset_fault_aborts_the_connection(fresh):
    control(fresh, "POST", "faults", [{"type": "reset"}])
    assert raw_request(fresh.url, json.dumps({"query": SHOP_QUERY}).encode()) in (b"<RESET>", b"")
    assert gql(fresh, SHOP_QUERY)[0] == 200


def test_truncate_fault_sends_half_the_declared_body(fresh):
    control(fresh, "POST", "faults", [{"type": "truncate", "path": "/admin"}])
    host, port = fresh.url.removeprefix("http://").split(":")
    conn = httpclient.HTTPConnection(host, int(port), timeout=5)
    conn.request("POST", GRAPHQL, json.dumps({"query": SHOP_QUERY}), {"X-Shopify-Access-Token": TOKEN})
    response = conn.getresponse()
    assert response.status == 200
    try:
        response.read()
        raise AssertionError("expected an incomplete read")
    except (httpclient.IncompleteRead, ConnectionResetError):
        pass
    conn.close()
    assert gql(fresh, SHOP_QUERY)[0] == 200
    _, stats = control(fresh, "GET", "stats")
    assert stats["faults_injected"] == 1


def test_cli_refuses_bad_arguments_with_a_clear_message():
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "bloom_sandbox.cli", "serve", "--orders", "-5", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "--orders must be >= 0" in result.stderr


def test_cli_serves_and_stops_on_sigterm():
    with sandbox_process(port=0, seed=3, orders=200, now="2026-11-28", bulk_scale=0.01) as proc:
        status, _, raw = http("GET", f"{proc.url}/_sandbox/truth")
        assert status == 200
        truth = json.loads(raw)
        assert truth["counts"]["orders"] == 200
        assert truth["now"] == "2026-11-28T00:00:00Z"
        assert Decimal(truth["totals"]["gross_sales"]) > 0
        process = proc.process
    assert process is not None
    assert process.returncode == 0


def test_registry_skips_absent_packages_but_not_broken_ones(shared, tmp_path, monkeypatch):
    import sys

    from bloom_sandbox import registry

    broken = tmp_path / "broken_emulator"
    broken.mkdir()
    (broken / "__init__.py").write_text("import no_such_dependency_here\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "API_MODULES", ["bloom_sandbox.shopify", "bloom_sandbox.not_written_yet"])
    apis = registry.load_apis(shared.world)
    registry.close_apis(apis)
    assert [api.name for api in apis] == ["shopify"]
    monkeypatch.setattr(registry, "API_MODULES", ["bloom_sandbox.shopify", "broken_emulator"])
    try:
        with pytest.raises(ModuleNotFoundError, match="no_such_dependency_here"):
            registry.load_apis(shared.world)
    finally:
        sys.modules.pop("broken_emulator", None)


def test_a_bad_content_length_is_a_400(shared):
    host, port = shared.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"POST /admin/api/2026-10/graphql.json HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):  # the server closes the connection after answering
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400")
    assert b"invalid Content-Length" in answer
