"""The Shopify Admin GraphQL emulator: ``POST /admin/api/<version>/graphql.json``.

Answers like Shopify where a sync depends on it: auth errors, API versions, GraphQL
validation, query cost with a leaky bucket (THROTTLED, MAX_COST_EXCEEDED), access scopes,
search filters, cursor pagination and bulk operations (``bulk.py``); result files are served
under ``/admin/bulk-results/``.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any

from graphql import (
    FragmentDefinitionNode,
    GraphQLError,
    execute,
    get_operation_ast,
    parse,
    validate,
)

from bloom_sandbox.api import Request, Response
from bloom_sandbox.faults import FaultError, parse_count
from bloom_sandbox.shopify.bulk import BulkManager
from bloom_sandbox.shopify.context import Context, Index
from bloom_sandbox.shopify.cost import MAX_COST, actual_cost, analyze
from bloom_sandbox.shopify.schema import load_schema
from bloom_sandbox.shopify.throttle import RESTORE_RATES, LeakyBucket
from bloom_sandbox.store.truth import compute_truth
from bloom_sandbox.world import World

VERSIONS = ("2025-10", "2026-01", "2026-04", "2026-07", "2026-10")  # supported, oldest first
GRAPHQL_PATH = re.compile(r"^/admin/api/([^/]+)/graphql\.json$")
VERSION_FORMAT = re.compile(r"^\d{4}-(01|04|07|10)$")
ALL_SCOPES = frozenset(
    {"read_orders", "read_all_orders", "read_products", "read_customers", "read_shopify_payments_payouts"}
)
LIMITED_TOKEN = "shpat_sandbox_limited_token"  # noqa: S105 (public demo token); no read_all_orders, read_customers, payouts
LIMITED_SCOPES = frozenset({"read_orders", "read_products"})
UNAUTHORIZED = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
NOT_FOUND = {"errors": "Not Found"}
ERROR_BODIES = {
    500: {"errors": "An unexpected error occurred"},
    502: {"errors": "Bad Gateway"},
    503: {"errors": "Service Unavailable"},
    504: {"errors": "Gateway Timeout"},
}
RATE_DOCS = "https://shopify.dev/api/usage/rate-limits"
DEPRECATION_DOCS = "https://shopify.dev/api/usage/versioning#deprecation-practices"
# Shop states other than active: (HTTP status, body) of every Admin API call, and the fault type.
UNAVAILABLE = {
    "frozen": (402, {"errors": "Unavailable Shop"}),  # Payment Required: unpaid bills
    "locked": (423, {"errors": "This shop is unavailable"}),  # Locked: closed by Shopify (fraud, abuse)
}
STATE_FAULTS = {"shop_frozen": "frozen", "shop_locked": "locked"}
SHOPIFY_FAULTS = ("throttled", "bulk_failed", "expired_url", "bulk_expired", "token_revoked", *STATE_FAULTS)
BULK_ERROR_CODES = ("INTERNAL_SERVER_ERROR", "TIMEOUT", "ACCESS_DENIED")


class ShopifyAPI:
    """The Shopify Admin API over the world's store (see module docstring)."""

    name = "shopify"
    prefix = "/admin"

    def __init__(self, world: World) -> None:
        self.world = world
        self.schema = load_schema()
        self.tokens = {LIMITED_TOKEN: LIMITED_SCOPES}  # more tokens and their scopes may be added
        self._index = Index(world.store)
        self._buckets: dict[str, LeakyBucket] = {}
        self._lock = threading.Lock()
        self.bulk = BulkManager(world, self.schema)
        self._faults: dict[str, list[dict[str, Any]]] = {}
        self.counters = {
            "requests": 0,
            "graphql_queries": 0,
            "points_requested": 0,
            "points_spent": 0,
            "throttled": 0,
            "max_cost_exceeded": 0,
            "unauthorized": 0,
            "shop_unavailable": 0,
            "bulk_downloads": 0,
        }

    # -- SandboxAPI ------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        self._count("requests")
        if request.path.startswith("/admin/bulk-results/"):
            return self._download(request)
        match = GRAPHQL_PATH.match(request.path)
        if match is None or request.method != "POST":
            return Response.json(NOT_FOUND, status=404)
        version = self._served_version(match.group(1))
        if version is None:
            return Response.json(NOT_FOUND, status=404)
        token = request.headers.get("x-shopify-access-token", "")
        scopes = ALL_SCOPES if token and token == self.world.shopify_token else self.tokens.get(token)
        if scopes is None or self._take_fault("token_revoked") is not None:
            self._count("unauthorized")
            return Response.json(UNAUTHORIZED, status=401)
        state = self._shop_state()
        if state in UNAVAILABLE:
            self._count("shop_unavailable")
            status, body = UNAVAILABLE[state]
            return Response.json(body, status=status)
        response = self._graphql(request, scopes)
        response.headers["X-Shopify-API-Version"] = version
        return response

    def truth(self) -> dict[str, Any]:
        return compute_truth(self.world.store)

    def close(self) -> None:
        """Delete the bulk operations' result files."""
        self.bulk.close()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {**self.counters, **self.bulk.stats()}

    def advance(self, days: int) -> None:
        self._index = Index(self.world.store)
        self.bulk.advance(days)

    def set_faults(self, faults: list[dict[str, Any]]) -> list[dict[str, Any]]:
        mine: dict[str, list[dict[str, Any]]] = {}
        rest = []
        for spec in faults:
            kind = spec.get("type")
            if kind in SHOPIFY_FAULTS:
                if kind == "bulk_failed" and spec.get("error_code", "INTERNAL_SERVER_ERROR") not in BULK_ERROR_CODES:
                    raise FaultError(f"fault {spec!r}: 'error_code' must be one of {', '.join(BULK_ERROR_CODES)}")
                entry = dict(spec)
                entry["remaining"] = parse_count(spec)
                mine.setdefault(kind, []).append(entry)
            else:
                rest.append(spec)
        with self._lock:
            self._faults = mine
        self.bulk.set_faults(mine.pop("bulk_failed", []), mine.pop("expired_url", []), mine.pop("bulk_expired", []))
        return rest

    def error_body(self, status: int) -> Response:
        """Shopify's body for an HTTP error ``status`` (for the server's generic faults)."""
        return Response.json(ERROR_BODIES.get(status, {"errors": "An unexpected error occurred"}), status=status)

    # -- internals -------------------------------------------------------------------------

    def _count(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self.counters[name] += amount

    def _take_fault(self, kind: str) -> dict[str, Any] | None:
        with self._lock:
            entries = self._faults.get(kind) or []
            for entry in entries:
                if entry["remaining"] is None:
                    return entry
                entry["remaining"] -= 1
                if entry["remaining"] <= 0:
                    entries.remove(entry)
                return entry
        return None

    def _shop_state(self) -> str:
        """The shop's state for this call: an injected shop_frozen / shop_locked fault, else the world's."""
        for kind, state in STATE_FAULTS.items():
            if self._take_fault(kind) is not None:
                return state
        return self.world.shop_state

    @staticmethod
    def _served_version(requested: str) -> str | None:
        """The version Shopify answers with: retired ones fall forward to the oldest supported."""
        if requested == "unstable":
            return requested
        if not VERSION_FORMAT.match(requested):
            return None
        if requested < VERSIONS[0]:
            return VERSIONS[0]
        return requested if requested in VERSIONS else VERSIONS[-1]

    def _bucket(self, request: Request) -> LeakyBucket:
        shop = request.headers.get("x-shopify-shop-domain") or request.headers.get("host", "")
        with self._lock:
            bucket = self._buckets.get(shop)
            if bucket is None:
                bucket = self._buckets[shop] = LeakyBucket(RESTORE_RATES[self.world.store.shop.plan])
            return bucket

    def _graphql(self, request: Request, scopes: frozenset[str]) -> Response:
        payload: Any
        if request.headers.get("content-type", "").startswith("application/graphql"):
            payload = {"query": request.body.decode("utf-8", "replace")}  # the query as the raw body
        else:
            try:
                payload = request.json()
            except ValueError:
                payload = None
        query = payload.get("query") if isinstance(payload, dict) else None
        if not isinstance(query, str) or not query.strip():
            return Response.json({"errors": {"query": "Required parameter missing or invalid"}}, status=400)
        variables = payload.get("variables") or {}
        self._count("graphql_queries")
        try:
            document = parse(query)
        except GraphQLError as exc:
            return Response.json({"errors": [exc.formatted]})
        errors = validate(self.schema, document)
        if errors:
            return Response.json({"errors": [e.formatted for e in errors]})
        operation = get_operation_ast(document, payload.get("operationName"))
        if operation is None:
            return Response.json({"errors": [{"message": "An operation name is required"}]})
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        bucket = self._bucket(request)
        try:
            analysis = analyze(self.schema, operation, fragments, variables)
        except (GraphQLError, TypeError, ValueError) as exc:
            return Response.json({"errors": [{"message": str(exc), "extensions": {"code": "BAD_REQUEST"}}]})
        if analysis.problems:
            return Response.json({"errors": [_problem(p) for p in analysis.problems]})
        requested = analysis.cost
        self._count("points_requested", requested)
        if requested > MAX_COST:
            self._count("max_cost_exceeded")
            return Response.json(
                {"errors": [_max_cost_error(requested)], "extensions": {"cost": _cost(requested, None, bucket)}}
            )
        if self._take_fault("throttled") is not None or not bucket.take(requested):
            self._count("throttled")
            error = {"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": RATE_DOCS}}
            return Response.json({"errors": [error], "extensions": {"cost": _cost(requested, None, bucket)}})
        ctx = Context(
            store=self.world.store, index=self._index, scopes=scopes, bulk=self.bulk, base_url=_base_url(request)
        )
        result = execute(
            self.schema,
            document,
            context_value=ctx,
            variable_values=variables,
            operation_name=payload.get("operationName"),
        )
        actual = min(requested, actual_cost(self.schema, operation, fragments, variables, result.data))
        bucket.give_back(requested - actual)
        self._count("points_spent", actual)
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [e.formatted for e in result.errors]
        body["data"] = result.data
        extensions: dict[str, Any] = {"cost": _cost(requested, actual, bucket)}
        if ctx.search_warnings:
            extensions["search"] = ctx.search_warnings
        body["extensions"] = extensions
        headers = {}
        if analysis.deprecated:
            used = ", ".join(sorted(analysis.deprecated))
            headers["X-Shopify-API-Deprecated-Reason"] = f"{used} (see {DEPRECATION_DOCS})"
        return Response.json(body, headers=headers)

    def _download(self, request: Request) -> Response:
        self._count("bulk_downloads")
        return self.bulk.download(request.path.rsplit("/", 1)[-1], request.query, time.time())


def _base_url(request: Request) -> str:
    return f"http://{request.headers.get('host', '127.0.0.1')}"


def _cost(requested: int, actual: int | None, bucket: LeakyBucket) -> dict[str, Any]:
    return {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": bucket.status()}


def _max_cost_error(cost: int) -> dict[str, Any]:
    return {
        "message": (
            f"Query cost is {cost}, which exceeds the single query max cost limit ({MAX_COST}).\n\n"
            f"See {RATE_DOCS} for more information on how the\ncost of a query is calculated.\n\n"
            "To query larger amounts of data with fewer limits, bulk operations should be used instead.\n"
            "See https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n"
        ),
        "extensions": {"code": "MAX_COST_EXCEEDED", "cost": cost, "maxCost": MAX_COST, "documentation": RATE_DOCS},
    }


def _problem(problem: Any) -> dict[str, Any]:
    loc = problem.node.loc
    out: dict[str, Any] = {"message": problem.message, "path": problem.path, "extensions": {"code": "BAD_REQUEST"}}
    if loc is not None:
        out["locations"] = [{"line": loc.start_token.line, "column": loc.start_token.column}]
    return out
