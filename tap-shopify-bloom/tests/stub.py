"""A stub of Shopify's Admin GraphQL endpoint for offline tests (pytest-httpserver).

It answers in Shopify's documented shapes: ``data`` plus ``extensions.cost`` with a
``throttleStatus``; connections with ``pageInfo`` and ``nodes``; the search filter's
``field:>='...' AND field:<'...'`` window applied to the nodes' time field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from werkzeug import Request, Response

TOKEN = "shpat_test_token"
FILTER = re.compile(r"(\w+):(>=|<)'([^']+)'")
OPERATION = re.compile(r"^\s*query\s+(\w+)")
TIME_FIELDS = {"updated_at": "updatedAt", "issued_at": "issuedAt", "processed_at": "transactionDate"}
CONNECTIONS = {
    "Orders": ("orders",),
    "Transactions": ("orders",),
    "Products": ("products",),
    "Customers": ("customers",),
    "Payouts": ("shopifyPaymentsAccount", "payouts"),
    "BalanceTransactions": ("shopifyPaymentsAccount", "balanceTransactions"),
}


def _t(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def cost_block(cost: float = 10, available: float = 1990, maximum: float = 2000, rate: float = 100) -> dict:
    """Shopify's ``extensions.cost`` block."""
    return {
        "requestedQueryCost": cost,
        "actualQueryCost": cost,
        "throttleStatus": {"maximumAvailable": maximum, "currentlyAvailable": available, "restoreRate": rate},
    }


@dataclass
class ShopifyStub:
    """Serves ``data[collection]`` node lists; ``faults`` are answered first, in order."""

    data: dict[str, list[dict]] = field(default_factory=dict)
    shop: dict = field(default_factory=dict)
    faults: list[Callable[[dict], Response | None]] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    payments_enabled: bool = True

    def handle(self, request: Request) -> Response:
        if request.headers.get("X-Shopify-Access-Token") != TOKEN:
            return Response(
                json.dumps({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}),
                status=401,
                content_type="application/json",
            )
        body = json.loads(request.get_data())
        self.requests.append(body)
        while self.faults:
            answer = self.faults.pop(0)(body)
            if answer is not None:
                return answer
        return self.answer(body)

    def answer(self, body: dict) -> Response:
        operation = OPERATION.match(body["query"]).group(1)
        variables = body.get("variables") or {}
        if operation == "Shop":
            data: dict[str, Any] = {"shop": self.shop}
        elif operation == "OrdersCount":
            matching = self.page(self.data.get("orders", []), {"query": variables.get("query"), "first": 10**9})
            data = {"ordersCount": {"count": len(matching["nodes"]), "precision": "EXACT"}}
        else:
            path = CONNECTIONS[operation]
            collection = "transactions_orders" if operation == "Transactions" else path[-1]
            page = self.page(self.data.get(collection, []), variables)
            data = {path[0]: page} if len(path) == 1 else {path[0]: {path[1]: page}}
            if len(path) > 1 and not self.payments_enabled:
                data = {path[0]: None}
        return Response(
            json.dumps({"data": data, "extensions": {"cost": cost_block()}}),
            content_type="application/json",
        )

    @staticmethod
    def page(nodes: list[dict], variables: dict) -> dict:
        selected = nodes
        for name, op, value in FILTER.findall(variables.get("query") or ""):
            key = TIME_FIELDS[name]
            bound = _t(value)
            selected = [n for n in selected if (_t(n[key]) >= bound if op == ">=" else _t(n[key]) < bound)]
        start = int(variables.get("after") or 0)
        first = int(variables["first"])
        chunk = selected[start : start + first]
        more = start + first < len(selected)
        return {
            "pageInfo": {"hasNextPage": more, "endCursor": str(start + first) if more else None},
            "nodes": chunk,
        }
