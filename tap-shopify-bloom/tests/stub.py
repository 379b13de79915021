"""A stub of Shopify's Admin GraphQL endpoint for offline tests (pytest-httpserver).

It answers in Shopify's documented shapes: ``data`` plus ``extensions.cost`` with a
``throttleStatus``; connections with ``pageInfo`` and ``nodes``; the search filter's
``field:>='...' AND field:<'...'`` window applied to the nodes' time field.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tap_shopify_bloom.throttle import connection_factor
from werkzeug import Request, Response

TOKEN = "shpat_test_token"
FILTER = re.compile(r"(\w+):(>=|<)'([^']+)'")
OPERATION = re.compile(r"^\s*(?:query|mutation)\s+(\w+)")
BULK_ROOT = re.compile(r'(\w+)\(query: ("(?:[^"\\]|\\.)*")\)')
TIME_FIELDS = {"updated_at": "updatedAt", "issued_at": "issuedAt", "processed_at": "transactionDate"}
#: Follow-up queries of one nested connection: operation -> (owner field, connection, page size).
NESTED = {
    "OrderLineItems": ("order", "lineItems", 100),
    "OrderShippingLines": ("order", "shippingLines", 100),
    "RefundLineItems": ("node", "refundLineItems", 250),
    "RefundShippingLines": ("node", "refundShippingLines", 100),
    "ProductVariants": ("product", "variants", 250),
}
#: Count queries: operation -> collection.
COUNTS = {"OrdersCount": "orders", "ProductsCount": "products", "CustomersCount": "customers"}
#: Follow-up queries of a whole list of an order: operation -> list field.
WHOLE_LISTS = {"OrderRefunds": "refunds", "OrderTransactions": "transactions"}
#: Connections a bulk query lists as child lines.
BULK_CHILDREN = ("lineItems", "shippingLines", "variants")
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
    base_url: str = ""
    operations: dict[str, dict] = field(default_factory=dict)
    files: dict[str, list[str]] = field(default_factory=dict)
    #: Outcomes for the next bulk operations: "FAILED", "FAILED_PARTIAL", "ACCESS_DENIED" (else COMPLETED).
    bulk_outcomes: list[str] = field(default_factory=list)
    bulk_submissions: list[str] = field(default_factory=list)
    bulk_roots: list[str] = field(default_factory=list)  # what each submission was for (stream name)
    max_running: int = 0
    downloaded: set[str] = field(default_factory=set)
    delay: float = 0.0  # seconds before each answer
    #: (maximumAvailable, restoreRate) of a leaky bucket Shopify-style; None: always full.
    bucket: tuple[float, float] | None = None
    level: float = 0.0
    level_at: float = 0.0
    throttled: int = 0
    scopes: tuple[str, ...] = ("read_orders", "read_all_orders", "read_products", "read_customers")

    def handle(self, request: Request) -> Response:
        if request.headers.get("X-Shopify-Access-Token") != TOKEN:
            return Response(
                json.dumps({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}),
                status=401,
                content_type="application/json",
            )
        body = json.loads(request.get_data())
        self.requests.append(body)
        time.sleep(self.delay)
        for index, fault in enumerate(self.faults):
            answer = fault(body)
            if answer is not None:  # a fault that does not apply to this request waits for another
                del self.faults[index]
                return answer
        return self.answer(body)

    def answer(self, body: dict) -> Response:
        operation = OPERATION.match(body["query"]).group(1)
        variables = body.get("variables") or {}
        if operation == "Shop":
            data: dict[str, Any] = {"shop": self.shop}
        elif operation in NESTED:
            owner, field_name, first = NESTED[operation]
            source = self.find(variables["id"])
            data = {owner: {field_name: self.slice(source[field_name]["nodes"], first, variables.get("after"))}}
        elif operation in WHOLE_LISTS:
            field_name = WHOLE_LISTS[operation]
            source = self.find(variables["id"])
            whole = source[field_name] if field_name == "transactions" else self.summary_refunds(source)
            data = {"order": {field_name: whole}}
        elif operation == "PaymentsAccount":
            account = {"id": "gid://shopify/ShopifyPaymentsAccount/1", "activated": True}
            data = {"shopifyPaymentsAccount": account if self.payments_enabled else None}
        elif operation == "AccessScopes":
            data = {"currentAppInstallation": {"accessScopes": [{"handle": h} for h in self.scopes]}}
        elif operation == "BulkRun":
            data = {"bulkOperationRunQuery": self.run_bulk(variables["query"])}
        elif operation == "BulkPoll":
            data = {"node": self.operations.get(variables["id"])}
        elif operation == "RefundDetails":
            data = {"nodes": [self.refund_details(self.find(i)) for i in variables["ids"]]}
        elif operation in COUNTS:
            collection = COUNTS[operation]
            matching = self.page(self.data.get(collection, []), {"query": variables.get("query"), "first": 10**9})
            data = {f"{collection}Count": {"count": len(matching["nodes"]), "precision": "EXACT"}}
        else:
            path = CONNECTIONS[operation]
            collection = "transactions_orders" if operation == "Transactions" else path[-1]
            page = self.page(self.data.get(collection, []), variables)
            if operation == "Orders":
                page["nodes"] = [self.as_paged(node) for node in page["nodes"]]
            elif operation == "Transactions":
                page["nodes"] = [{**node, "transactions": node["transactions"][:50]} for node in page["nodes"]]
            elif operation == "Products":
                page["nodes"] = [self.with_first(node, "variants", 100) for node in page["nodes"]]
            data = {path[0]: page} if len(path) == 1 else {path[0]: {path[1]: page}}
            if len(path) > 1 and not self.payments_enabled:
                data = {path[0]: None}
        cost = cost_block()
        if self.bucket:
            maximum, rate = self.bucket
            now = time.monotonic()
            self.level = min(maximum, self.level + (now - self.level_at) * rate)
            self.level_at = now
            requested = 2 + 3 * connection_factor(int(variables.get("first") or 1))  # Shopify's sizing
            status = {"maximumAvailable": maximum, "currentlyAvailable": self.level, "restoreRate": rate}
            if requested > self.level:  # checked before running the query
                self.throttled += 1
                throttled = {"message": "Throttled", "extensions": {"code": "THROTTLED"}}
                cost = {"requestedQueryCost": requested, "actualQueryCost": None, "throttleStatus": status}
                return Response(json.dumps({"errors": [throttled], "extensions": {"cost": cost}}))
            self.level -= requested
            status["currentlyAvailable"] = self.level
            cost = {"requestedQueryCost": requested, "actualQueryCost": requested, "throttleStatus": status}
        return Response(
            json.dumps({"data": data, "extensions": {"cost": cost}}),
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

    @staticmethod
    def slice(nodes: list[dict], first: int, after: str | None = None) -> dict:
        """One page of a nested connection (cursors are offsets)."""
        start = int(after or 0)
        more = start + first < len(nodes)
        return {
            "pageInfo": {"hasNextPage": more, "endCursor": str(start + first)},
            "nodes": nodes[start : start + first],
        }

    @classmethod
    def with_first(cls, node: dict, field_name: str, first: int) -> dict:
        """``node`` with only the first page of its connection ``field_name``."""
        return {**node, field_name: cls.slice(node[field_name]["nodes"], first)}

    def find(self, gid: str) -> dict:
        """An order, refund or product of the stub's data by id."""
        for collection in ("orders", "products"):
            for node in self.data.get(collection, []):
                if node["id"] == gid:
                    return node
                for refund in node.get("refunds", []):
                    if refund["id"] == gid:
                        return refund
        raise KeyError(gid)

    @staticmethod
    def summary_refunds(node: dict) -> list[dict]:
        """An order's refunds as a query gets them (no refund line items or refunded shipping)."""
        return [{k: v for k, v in r.items() if not k.startswith("refund")} for r in node.get("refunds", [])]

    @classmethod
    def refund_details(cls, refund: dict) -> dict:
        """``RefundDetails``: the first 5 refunded shipping lines and the first 50 refund line items."""
        return cls.with_first(cls.with_first(refund, "refundShippingLines", 5), "refundLineItems", 50)

    @classmethod
    def as_paged(cls, node: dict) -> dict:
        """An order as ``orders.graphql`` gets it: first pages, 10 refunds without details."""
        paged = cls.with_first(cls.with_first(node, "lineItems", 25), "shippingLines", 5)
        return {**paged, "refunds": cls.summary_refunds(node)[:10]}

    def run_bulk(self, query: str) -> dict:
        """Start (and at once finish) a bulk operation; its JSONL lists children before parents."""
        match = BULK_ROOT.search(query)
        collection, search = match.group(1), json.loads(match.group(2))
        transactions = "transactions {" in query
        nodes = self.page(self.data.get(collection, []), {"query": search, "first": 10**9})["nodes"]
        lines: list[str] = []
        for node in nodes:
            if transactions:
                root = {"id": node["id"], "updatedAt": node["updatedAt"], "transactions": node["transactions"]}
            else:
                children = [c for c in BULK_CHILDREN if c in node]
                root = {k: v for k, v in node.items() if k not in (*children, "transactions")}
                if "refunds" in node:
                    root["refunds"] = self.summary_refunds(node)
                for child in (c for field_name in children for c in node[field_name]["nodes"]):
                    lines.append(json.dumps({**child, "__parentId": node["id"]}))
            lines.append(json.dumps(root))
        number = len(self.operations) + 1
        operation_id = f"gid://shopify/BulkOperation/{number}"
        outcome = self.bulk_outcomes.pop(0) if self.bulk_outcomes else "COMPLETED"
        operation = {
            "id": operation_id,
            "status": "RUNNING",
            "errorCode": None,
            "url": None,
            "partialDataUrl": None,
            "objectCount": str(len(lines)),
            "rootObjectCount": str(len(nodes)),
            "fileSize": None,
        }
        if outcome == "COMPLETED":
            self.files[f"{number}.jsonl"] = lines
            operation.update(status="COMPLETED", url=f"{self.base_url}/bulk/{number}.jsonl" if lines else None)
        else:
            code = "ACCESS_DENIED" if outcome == "ACCESS_DENIED" else "INTERNAL_SERVER_ERROR"
            operation.update(status="FAILED", errorCode=code)
            if outcome == "FAILED_PARTIAL":
                self.files[f"{number}.jsonl"] = lines[: len(lines) // 2]
                operation["partialDataUrl"] = f"{self.base_url}/bulk/{number}.jsonl"
        self.operations[operation_id] = operation
        self.bulk_submissions.append(search)
        self.bulk_roots.append("transactions" if transactions else collection)
        running = sum(1 for name in self.files if name not in self.downloaded)
        self.max_running = max(self.max_running, running)
        return {"bulkOperation": {"id": operation_id, "status": "CREATED"}, "userErrors": []}

    def download(self, request: Request) -> Response:
        """Serve a bulk result file (no access token: it is a signed URL)."""
        name = request.path.rsplit("/", 1)[-1]
        self.downloaded.add(name)
        return Response("\n".join(self.files[name]) + "\n", content_type="application/jsonl")
