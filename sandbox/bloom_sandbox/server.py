"""The sandbox HTTP server: one port, every API under its own path prefix, control under /_sandbox.

Control endpoints (JSON):

- ``GET /_sandbox/health``: ``{"status": "ok", "now", "apis": {name: prefix}}``
- ``GET /_sandbox/truth``: Shopify's ground truth at the top level, each other API's under its name
- ``POST /_sandbox/advance`` ``{"days": N}``: advance the store, then every API
- ``POST /_sandbox/reprice`` ``{"product_id": N, "at": "<ISO UTC>"}``: the merchant raises the
  product's unit costs by 5 % at ``at`` (after its last update, not after the store's clock)
- ``GET|POST|DELETE /_sandbox/faults``: show, replace or clear the injected faults
- ``GET /_sandbox/stats``: request counters, each API's own under its name

Generic faults (``faults.py``) are applied here, with full control of the socket: HTTP errors
in the API's own error format, slow answers, connection resets and truncated bodies.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import socket
import struct
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bloom_sandbox.api import Request, Response, SandboxAPI
from bloom_sandbox.faults import GENERIC_TYPES, Fault, FaultBoard, FaultError, parse_fault
from bloom_sandbox.registry import close_apis, load_apis
from bloom_sandbox.store.generate import advance_store, generate_store, reprice_product
from bloom_sandbox.world import SHOP_STATES, World

log = logging.getLogger("bloom_sandbox")
MAX_BODY = 16 * 1024 * 1024
MAX_ADVANCE_DAYS = 366


def build_world(
    seed: int = 42,
    orders: int = 2000,
    months: int = 24,
    plan: str = "standard",
    now: Any = None,
    bulk_scale: float = 0.05,
    payments: bool = True,
    shop_state: str = "active",
) -> World:
    """Generate the store and wrap it in a :class:`World`."""
    if shop_state not in SHOP_STATES:
        raise ValueError(f"shop_state must be one of {', '.join(SHOP_STATES)}, not {shop_state!r}")
    store = generate_store(seed, orders, months=months, now=now, plan=plan, payments=payments)
    return World(seed=seed, store=store, bulk_scale=bulk_scale, shop_state=shop_state)


class Sandbox:
    """Routes requests to the APIs and answers the control endpoints."""

    def __init__(self, world: World, apis: list[SandboxAPI] | None = None) -> None:
        self.world = world
        self.apis = load_apis(world) if apis is None else apis
        # Longest prefix first, so that "/admin/x" would win over "/admin".
        self._routes = sorted(self.apis, key=lambda api: len(api.prefix), reverse=True)
        self.faults = FaultBoard()
        self.lock = threading.Lock()  # held while the world's clock moves
        self.requests = 0
        self.requests_per_api: dict[str, int] = {api.name: 0 for api in self.apis}
        self._count_lock = threading.Lock()

    def close(self) -> None:
        """Release what the APIs hold."""
        close_apis(self.apis)

    def route(self, path: str) -> SandboxAPI | None:
        """The API whose prefix covers ``path``."""
        for api in self._routes:
            prefix = api.prefix.rstrip("/")
            if path == prefix or path.startswith(prefix + "/"):
                return api
        return None

    def count(self, api: SandboxAPI | None) -> None:
        with self._count_lock:
            self.requests += 1
            if api is not None:
                self.requests_per_api[api.name] += 1

    # -- control endpoints -----------------------------------------------------------------

    def control(self, request: Request) -> Response:
        """Answer a request under /_sandbox."""
        action = request.path.removeprefix("/_sandbox").strip("/")
        handler = {
            ("GET", "health"): self._health,
            ("GET", "truth"): self._truth,
            ("POST", "advance"): self._advance,
            ("POST", "reprice"): self._reprice,
            ("GET", "faults"): self._faults_get,
            ("POST", "faults"): self._faults_post,
            ("DELETE", "faults"): self._faults_delete,
            ("GET", "stats"): self._stats,
        }.get((request.method, action))
        if handler is None:
            return Response.json({"error": f"no control endpoint {request.method} {request.path}"}, status=404)
        try:
            return handler(request)
        except (ValueError, FaultError) as exc:
            return Response.json({"error": str(exc)}, status=400)

    def _health(self, _request: Request) -> Response:
        return Response.json(
            {
                "status": "ok",
                "now": self.world.store.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "apis": {api.name: api.prefix for api in self.apis},
            }
        )

    def _truth(self, _request: Request) -> Response:
        truth: dict[str, Any] = {}
        with self.lock:
            for api in self.apis:
                if api.name == "shopify":
                    truth.update(api.truth())
                else:
                    truth[api.name] = api.truth()
        return Response.json(truth)

    def _advance(self, request: Request) -> Response:
        payload = request.json()
        days = payload.get("days") if isinstance(payload, dict) else None
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_ADVANCE_DAYS:
            raise ValueError(f'body must be {{"days": N}} with N an integer from 1 to {MAX_ADVANCE_DAYS}')
        with self.lock:
            advance_store(self.world.store, days, self.world.seed)
            for api in self.apis:
                api.advance(days)
            store = self.world.store
            return Response.json(
                {"now": store.now.strftime("%Y-%m-%dT%H:%M:%SZ"), "orders": len(store.orders), "days": days}
            )

    def _reprice(self, request: Request) -> Response:
        payload = request.json()
        usage = 'body must be {"product_id": N, "at": "YYYY-MM-DDTHH:MM:SSZ"}'
        if not isinstance(payload, dict) or not isinstance(payload.get("product_id"), int):
            raise ValueError(usage)
        try:
            at = datetime.fromisoformat(str(payload.get("at")).replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(usage) from None
        if at.tzinfo is None:
            raise ValueError(f"{usage}: 'at' needs its time zone")
        with self.lock:
            store = self.world.store
            product = next((p for p in store.products if p.id == payload["product_id"]), None)
            if product is None or product.is_gift_card:
                raise ValueError(f"no product {payload['product_id']} with costs")
            if not product.updated_at <= at <= store.now:
                raise ValueError(
                    f"'at' must lie between the product's last update ({product.updated_at:%Y-%m-%dT%H:%M:%SZ})"
                    f" and the store's clock ({store.now:%Y-%m-%dT%H:%M:%SZ})"
                )
            before = {v.id: v.unit_cost for v in product.variants}
            reprice_product(store, product, at.astimezone(UTC))
            variants = [
                {"id": v.id, "cost": str(v.unit_cost), "cost_before": str(before[v.id])}
                for v in product.variants
                if before[v.id] is not None
            ]
            at_text = product.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
            return Response.json({"product_id": product.id, "at": at_text, "variants": variants})

    def _faults_get(self, _request: Request) -> Response:
        return Response.json({"faults": self.faults.describe()})

    def _faults_post(self, request: Request) -> Response:
        payload = request.json()
        specs = payload.get("faults") if isinstance(payload, dict) else payload
        if not isinstance(specs, list) or not all(isinstance(s, dict) for s in specs):
            raise FaultError('body must be {"faults": [{"type": ...}, ...]} (or a JSON list of faults)')
        generic = [parse_fault(s) for s in specs if s.get("type") in GENERIC_TYPES]
        rest = [s for s in specs if s.get("type") not in GENERIC_TYPES]
        try:
            for api in self.apis:
                rest = api.set_faults(rest)
            if rest:
                unknown = sorted({str(s.get("type")) for s in rest})
                raise FaultError(f"unknown fault types: {unknown}; no fault is active")
        except ValueError:
            self._faults_delete(request)  # all or nothing
            raise
        self.faults.replace(generic)
        return Response.json({"faults": self.faults.describe(), "accepted": len(specs)})

    def _faults_delete(self, _request: Request) -> Response:
        self.faults.replace([])
        for api in self.apis:
            api.set_faults([])
        return Response.json({"faults": []})

    def _stats(self, _request: Request) -> Response:
        stats: dict[str, Any] = {
            "requests": self.requests,
            "faults_injected": self.faults.injected,
            "requests_per_api": dict(self.requests_per_api),
        }
        for api in self.apis:
            stats[api.name] = api.stats()
        return Response.json(stats)

    # -- faults ----------------------------------------------------------------------------

    def fault_response(self, fault: Fault, api: SandboxAPI) -> Response:
        """The answer an ``http_error`` fault gives, in the API's own error format when it has one."""
        error_body = getattr(api, "error_body", None)
        if error_body is not None:
            return error_body(fault.status)
        return Response.json({"error": "injected fault", "status": fault.status}, status=fault.status)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SandboxServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def _serve(self) -> None:
        sandbox = self.server.sandbox
        split = urlsplit(self.path)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._send(Response.json({"error": "invalid Content-Length"}, status=400))
            return
        if length > MAX_BODY:
            self._send(Response.json({"error": "request body too large"}, status=413))
            return
        body = self.rfile.read(length) if length else b""
        request = Request(
            method=self.command,
            path=split.path,
            query=parse_qs(split.query),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        if split.path == "/_sandbox" or split.path.startswith("/_sandbox/"):
            self._send(sandbox.control(request))
            return
        api = sandbox.route(split.path)
        sandbox.count(api)
        if api is None:
            self._send(Response.json({"errors": "Not Found"}, status=404))
            return
        fault = sandbox.faults.take(request.method, request.path)
        if fault is not None and fault.type == "reset":
            self._reset()
            return
        if fault is not None and fault.type == "http_error":
            self._send(sandbox.fault_response(fault, api))
            return
        if fault is not None and fault.type == "slow":
            time.sleep(fault.seconds)
        try:
            response = api.handle(request)
        except Exception:
            log.exception("%s failed on %s %s", api.name, request.method, request.path)
            response = Response.json({"error": "sandbox internal error"}, status=500)
        self._send(response, truncate=fault is not None and fault.type == "truncate")

    def _send(self, response: Response, truncate: bool = False) -> None:
        size = response.file.stat().st_size if response.file is not None else len(response.body)
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        if truncate:
            head = response.body[: size // 2]
            if response.file is not None:
                with response.file.open("rb") as fh:
                    head = fh.read(size // 2)
            self.wfile.write(head)
            self.wfile.flush()
            self.close_connection = True
            self._reset()
            return
        if self.command == "HEAD":
            return
        if response.file is not None:
            with response.file.open("rb") as fh:
                shutil.copyfileobj(fh, self.wfile, 1 << 20)
        else:
            self.wfile.write(response.body)

    def _reset(self) -> None:
        """Abort the connection with a TCP reset (SO_LINGER 0), no answer."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()


class SandboxServer(ThreadingHTTPServer):
    """A threading HTTP server holding the :class:`Sandbox` it serves."""

    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-answer is normal here (timeouts, faults): log it quietly."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            log.debug("client %s went away", client_address)
            return
        super().handle_error(request, client_address)

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        super().__init__(address, _Handler)

    def server_close(self) -> None:
        super().server_close()
        self.sandbox.close()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def make_server(world: World, host: str = "127.0.0.1", port: int = 0) -> SandboxServer:
    """A server for ``world`` bound to ``host:port`` (port 0: a free one), not yet serving."""
    return SandboxServer((host, port), Sandbox(world))
