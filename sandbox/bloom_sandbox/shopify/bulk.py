"""Bulk operations: ``bulkOperationRunQuery`` writes JSONL straight from the store's data.

The query is validated against the schema and against Shopify's bulk rules (at most 5
connections, nested at most 2 deep, no connection inside a list field, at least one
connection). Each node is its own line; nested nodes carry ``__parentId`` and come after
their parent but not grouped by it. Up to 5 operations run at once; a 6th is refused with
``OPERATION_IN_PROGRESS``. An operation is CREATED, then RUNNING for ``bulk_scale`` seconds
per 1,000 objects, then COMPLETED with a result URL that expires after 7 days; from then on
the operation shows as EXPIRED with no ``url`` (a FAILED one keeps its status, loses ``partialDataUrl``).
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    Undefined,
    get_named_type,
    parse,
    validate,
)

from bloom_sandbox.api import Response
from bloom_sandbox.shopify.codegen import Renderer, compile_renderer
from bloom_sandbox.shopify.context import Context
from bloom_sandbox.shopify.cost import SelectionWalker, is_connection, is_list_type
from bloom_sandbox.shopify.ids import gid
from bloom_sandbox.shopify.resolvers import CONNECTIONS, FIELDS, Resolver
from bloom_sandbox.shopify.schema import SCALARS, field_resolver, snake
from bloom_sandbox.shopify.views import TYPE_NAMES, object_gid
from bloom_sandbox.world import World

log = logging.getLogger("bloom_sandbox.shopify.bulk")
MAX_RUNNING = 5
MAX_CONNECTIONS = 5
MAX_DEPTH = 2
URL_LIFETIME = 7 * 86400
CHUNK = 200  # parents written before their (shuffled) children
EXPIRED_BODY = (
    "<?xml version='1.0' encoding='UTF-8'?><Error><Code>ExpiredToken</Code>"
    "<Message>The provided token has expired.</Message>"
    "<Details>Request signature expired at: {at}</Details></Error>"
)


class BulkQueryError(ValueError):
    """A bulk query Shopify refuses (code INVALID)."""


@dataclass
class BulkOp:
    """One bulk operation and its result files."""

    id: int
    query: str
    created_at: datetime
    status: str = "CREATED"
    type: str = "QUERY"
    error_code: str | None = None
    completed_at: datetime | None = None
    object_count: int = 0
    root_object_count: int = 0
    file_size: int | None = None
    result: str | None = None  # token of the result file
    partial: str | None = None  # token of the partial result file
    expires_at: float = 0.0  # on the manager's clock
    cancel_requested: bool = False
    fail: dict[str, Any] | None = None  # injected bulk_failed fault, or the error that stopped it
    group_objects: bool = False


# -- plans: a bulk query compiled to field readers --------------------------------------------


@dataclass
class FieldPlan:
    key: str
    kind: str  # "leaf", "object", "list", "typename"
    resolver: Resolver
    args: dict[str, Any]
    condition: str | None
    serialize: Callable[[Any], Any] | None = None
    sub: Plan | None = None
    attr: tuple[str, str] | None = None  # (field, snake attribute) when read without a resolver


@dataclass
class ConnPlan:
    key: str
    source: Resolver
    args: dict[str, Any]
    condition: str | None
    node: Plan


@dataclass
class Plan:
    fields: list[FieldPlan] = field(default_factory=list)
    connections: list[ConnPlan] = field(default_factory=list)
    _renderer: Renderer | None = None

    @property
    def renderer(self) -> Renderer:
        """The compiled ``render(obj, ctx)`` of this plan's fields (built on first use)."""
        if self._renderer is None:
            self._renderer = compile_renderer(self.fields, TYPE_NAMES, _identity)  # type: ignore[arg-type]
        return self._renderer


def _identity(value: Any) -> Any:
    return value


class _Compiler:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.schema = schema
        self.walker = SelectionWalker(schema, fragments, {})
        self.connections = 0

    def plan(self, selection_set: Any, parent: Any, depth: int, in_list: bool) -> Plan:
        plan = Plan()
        for node, ptype in self.walker.fields(selection_set, parent):
            name = node.name.value
            key = node.alias.value if node.alias else name
            condition = ptype.name if ptype is not parent else None
            if name == "__typename":
                plan.fields.append(FieldPlan(key, "typename", _identity, {}, condition))
                continue
            gfield = ptype.fields[name]
            named = get_named_type(gfield.type)
            args = self._args(node, ptype)
            if is_connection(named):
                self._connection(plan, node, ptype, named, key, args, condition, depth, in_list)
                continue
            resolver = field_resolver(ptype.name, name)
            attr = None if name in FIELDS.get(ptype.name, {}) else (name, snake(name))
            if not hasattr(named, "fields"):
                serialize = SCALARS.get(named.name, _identity)
                plan.fields.append(FieldPlan(key, "leaf", resolver, args, condition, serialize, attr=attr))
                continue
            listed = is_list_type(gfield.type)
            sub = self.plan(node.selection_set, named, depth, in_list or listed)
            if sub.connections and (depth > 0 or listed):
                if listed:
                    raise BulkQueryError(
                        "Queries that contain a connection field within a list field are not currently supported."
                    )
                raise BulkQueryError(f"The sandbox does not support connections under {ptype.name}.{name} in bulk.")
            kind = "list" if listed else "object"
            plan.fields.append(FieldPlan(key, kind, resolver, args, condition, sub=sub, attr=attr))
        return plan

    def _connection(
        self,
        plan: Plan,
        node: FieldNode,
        ptype: Any,
        named: Any,
        key: str,
        args: dict,
        condition: str | None,
        depth: int,
        in_list: bool,
    ) -> None:
        if in_list:
            raise BulkQueryError(
                "Queries that contain a connection field within a list field are not currently supported."
            )
        self.connections += 1
        if self.connections > MAX_CONNECTIONS:
            raise BulkQueryError(f"Bulk queries cannot contain more than {MAX_CONNECTIONS} connections.")
        if depth + 1 > MAX_DEPTH:
            raise BulkQueryError(
                f"Bulk queries cannot contain connections with a nesting depth greater than {MAX_DEPTH}."
            )
        node_type = get_named_type(named.fields["nodes"].type)
        edge_type = get_named_type(named.fields["edges"].type)
        selections: list[Any] = []
        for sub, _ in self.walker.fields(node.selection_set, named):
            if sub.name.value == "nodes" and sub.selection_set:
                selections.extend(sub.selection_set.selections)
            elif sub.name.value == "edges":
                for inner, _ in self.walker.fields(sub.selection_set, edge_type):
                    if inner.name.value == "node" and inner.selection_set:
                        selections.extend(inner.selection_set.selections)
        merged = type(node.selection_set)(selections=tuple(selections)) if selections else None
        node_plan = self.plan(merged, node_type, depth + 1, False)
        source = CONNECTIONS.get(ptype.name, {}).get(node.name.value)
        if source is None:
            raise BulkQueryError(f"Bulk queries on {ptype.name}.{node.name.value} are not supported by the sandbox.")
        plan.connections.append(ConnPlan(key, source, args, condition, node_plan))

    def _args(self, node: FieldNode, parent: Any) -> dict[str, Any]:
        gfield = parent.fields[node.name.value]
        args = {name: arg.default_value for name, arg in gfield.args.items() if arg.default_value is not Undefined}
        args.update(self.walker.args(node, parent))
        return args


def compile_bulk_query(schema: GraphQLSchema, query: str) -> Plan:
    """Validate a bulk query and compile it (raises BulkQueryError with Shopify's message)."""
    try:
        document = parse(query)
    except GraphQLError as exc:
        raise BulkQueryError(f"Invalid bulk query: {exc.message}") from None
    errors = validate(schema, document)
    if errors:
        raise BulkQueryError(f"Invalid bulk query: {errors[0].message}")
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation != OperationType.QUERY:
        raise BulkQueryError("Invalid bulk query: a bulk query must contain exactly one query operation.")
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    compiler = _Compiler(schema, fragments)
    plan = compiler.plan(operations[0].selection_set, schema.query_type, 0, False)
    if compiler.connections == 0:
        raise BulkQueryError("Bulk queries must contain at least one connection.")
    return plan


def render(obj: Any, plan: Plan, ctx: Context) -> dict[str, Any]:
    """One JSONL object: the plan's non-connection fields of ``obj``."""
    return plan.renderer(obj, ctx)


def _line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"), default=str)


def _children(obj: Any, plan: Plan, ctx: Context, lines: list[str]) -> None:
    parent_id = object_gid(obj)
    type_name = TYPE_NAMES.get(type(obj))
    for conn in plan.connections:
        if conn.condition is not None and conn.condition != type_name:
            continue
        for child in conn.source(obj, ctx, conn.args).items:
            line = render(child, conn.node, ctx)
            line["__parentId"] = parent_id
            lines.append(_line(line))
            _children(child, conn.node, ctx, lines)


# -- the manager --------------------------------------------------------------------------------


class BulkManager:
    """The bulk operations of the shop: submission, progress, cancellation, result files."""

    def __init__(self, world: World, schema: GraphQLSchema) -> None:
        self.world = world
        self.schema = schema
        self.ops: dict[int, BulkOp] = {}
        self.files: dict[str, tuple[Path, BulkOp]] = {}
        self._dir = tempfile.TemporaryDirectory(prefix="bloom-sandbox-bulk-")
        self._lock = threading.Lock()
        self._offset = 0.0  # seconds the world's clock was advanced
        self._fail_faults: list[dict[str, Any]] = []
        self._expired_faults: list[dict[str, Any]] = []
        self._expire_faults: list[dict[str, Any]] = []  # bulk_expired: results expire at completion
        self.counters = {"bulk_created": 0, "bulk_completed": 0, "bulk_failed": 0, "bulk_canceled": 0}

    def close(self) -> None:
        """Delete the result files."""
        self._dir.cleanup()

    def clock(self) -> float:
        return time.time() + self._offset

    def stats(self) -> dict[str, Any]:
        with self._lock:
            running = sum(1 for op in self.ops.values() if op.status in ("CREATED", "RUNNING"))
            expired = sum(1 for op in self.ops.values() if self.status(op) == "EXPIRED")
            return {**self.counters, "bulk_running": running, "bulk_expired": expired}

    def advance(self, days: int) -> None:
        self._offset += days * 86400

    def set_faults(
        self, failed: list[dict[str, Any]], expired: list[dict[str, Any]], expire: list[dict[str, Any]]
    ) -> None:
        """Take the bulk_failed, expired_url and bulk_expired faults (each list replaces the last)."""
        with self._lock:
            self._fail_faults, self._expired_faults, self._expire_faults = failed, expired, expire

    def expired(self, op: BulkOp) -> bool:
        """Whether a finished operation's result URLs have expired (7 days after it ended)."""
        return op.completed_at is not None and op.status in ("COMPLETED", "FAILED") and self.clock() >= op.expires_at

    def status(self, op: BulkOp) -> str:
        """The status Shopify shows: a COMPLETED operation whose URL expired is EXPIRED."""
        return "EXPIRED" if op.status == "COMPLETED" and self.expired(op) else op.status

    def get(self, number: int) -> BulkOp | None:
        return self.ops.get(number)

    def current(self, kind: str) -> BulkOp | None:
        ops = [op for op in self.ops.values() if op.type == kind]
        return ops[-1] if ops else None

    # -- mutations -------------------------------------------------------------------------

    def run_query(self, ctx: Context, query: str, group_objects: bool = False) -> dict[str, Any]:
        try:
            plan = compile_bulk_query(self.schema, query)
        except BulkQueryError as exc:
            return {"bulkOperation": None, "userErrors": [{"field": ["query"], "message": str(exc), "code": "INVALID"}]}
        with self._lock:
            running = [op for op in self.ops.values() if op.status in ("CREATED", "RUNNING", "CANCELING")]
            if len(running) >= MAX_RUNNING:
                ids = ", ".join(gid("BulkOperation", op.id) for op in running)
                message = f"A bulk query operation for this app and shop is already in progress: {ids}."
                return {
                    "bulkOperation": None,
                    "userErrors": [{"field": None, "message": message, "code": "OPERATION_IN_PROGRESS"}],
                }
            op = BulkOp(id=len(self.ops) + 1, query=query, created_at=_utc(self.clock()), group_objects=group_objects)
            op.fail = _take(self._fail_faults)
            self.ops[op.id] = op
            self.counters["bulk_created"] += 1
        answer = replace(op)  # the operation as created: its thread moves the live one on at once
        run_ctx = Context(store=ctx.store, index=ctx.index, scopes=ctx.scopes, bulk=self, base_url=ctx.base_url)
        threading.Thread(target=self._run, args=(op, plan, run_ctx), name=f"bulk-{op.id}", daemon=True).start()
        return {"bulkOperation": answer, "userErrors": []}

    def cancel(self, _ctx: Context, global_id: str) -> dict[str, Any]:
        number = int(global_id.rsplit("/", 1)[-1]) if global_id.rsplit("/", 1)[-1].isdigit() else 0
        op = self.ops.get(number)
        if op is None:
            return {
                "bulkOperation": None,
                "userErrors": [{"field": ["id"], "message": "Bulk operation does not exist"}],
            }
        if op.status not in ("CREATED", "RUNNING"):
            message = f"A bulk operation cannot be canceled when it is {op.status.lower()}"
            return {"bulkOperation": op, "userErrors": [{"field": None, "message": message}]}
        op.cancel_requested = True
        op.status = "CANCELING"
        # As the mutation saw it: the operation's thread may reach CANCELED before the answer is written.
        return {"bulkOperation": replace(op), "userErrors": []}

    # -- running -----------------------------------------------------------------------------

    def _run(self, op: BulkOp, plan: Plan, ctx: Context) -> None:
        started = time.monotonic()
        time.sleep(0.02)
        if not op.cancel_requested:
            op.status = "RUNNING"
        path = Path(self._dir.name) / f"{op.id}.jsonl"
        rng = random.Random(op.id)  # noqa: S311 (deterministic synthetic data, not security)
        lines_written = 0
        try:
            with path.open("w", encoding="utf-8") as out:
                for parents, children in self._roots(plan, ctx, op.group_objects):
                    if op.cancel_requested:
                        break
                    out.write("".join(p + "\n" for p in parents))
                    if not op.group_objects:
                        rng.shuffle(children)
                    out.write("".join(c + "\n" for c in children))
                    lines_written += len(parents) + len(children)
                    op.root_object_count += len(parents)
                    op.object_count = lines_written
        except GraphQLError as exc:  # e.g. a field the token has no scope for
            code = (exc.extensions or {}).get("code")
            op.fail = {"error_code": code if code in ("ACCESS_DENIED", "TIMEOUT") else "INTERNAL_SERVER_ERROR"}
        except Exception:
            log.exception("bulk operation %s failed", op.id)
            op.fail = {"error_code": "INTERNAL_SERVER_ERROR"}
        duration = self.world.bulk_scale * lines_written / 1000
        while time.monotonic() - started < duration and not op.cancel_requested:
            time.sleep(min(0.05, duration))
        self._finish(op, path, lines_written)

    def _roots(self, plan: Plan, ctx: Context, grouped: bool) -> Iterator[tuple[list[str], list[str]]]:
        """(parent lines, their descendants' lines) in output order: chunks of parents, or one if ``grouped``."""
        size = 1 if grouped else CHUNK
        for conn in plan.connections:
            items = conn.source(None, ctx, conn.args).items
            for start in range(0, len(items), size):
                parents: list[str] = []
                children: list[str] = []
                for item in items[start : start + size]:
                    parents.append(_line(render(item, conn.node, ctx)))
                    _children(item, conn.node, ctx, children)
                yield parents, children
        for f in plan.fields:  # plain root objects with connections below (e.g. shopifyPaymentsAccount)
            if f.kind != "object" or f.sub is None or not f.sub.connections:
                continue
            obj = f.resolver(None, ctx, f.args)
            if obj is None:
                continue
            children = []
            _children(obj, f.sub, ctx, children)
            yield [_line(render(obj, f.sub, ctx))], children

    def _finish(self, op: BulkOp, path: Path, lines: int) -> None:
        now = self.clock()
        op.completed_at = _utc(now)
        if op.cancel_requested:
            op.status = "CANCELED"
            self._count("bulk_canceled")
            return
        if op.fail is not None:
            op.status = "FAILED"
            op.error_code = op.fail.get("error_code", "INTERNAL_SERVER_ERROR")
            if op.fail.get("partial_data"):
                partial = path.with_suffix(".partial.jsonl")
                with path.open(encoding="utf-8") as src, partial.open("w", encoding="utf-8") as dst:
                    for i, line in enumerate(src):
                        if i >= lines // 2:
                            break
                        dst.write(line)
                op.partial = self._register(partial, op)
            op.expires_at = now + URL_LIFETIME
            self._count("bulk_failed")
            return
        op.file_size = path.stat().st_size
        op.object_count = lines
        if lines:
            op.result = self._register(path, op)
        with self._lock:
            expire_now = _take(self._expire_faults) is not None
        op.expires_at = now if expire_now else now + URL_LIFETIME
        op.status = "COMPLETED"
        self._count("bulk_completed")

    def _register(self, path: Path, op: BulkOp) -> str:
        token = secrets.token_hex(16)
        with self._lock:
            self.files[token] = (path, op)
        return token

    def _count(self, name: str) -> None:
        with self._lock:
            self.counters[name] += 1

    # -- downloads ---------------------------------------------------------------------------

    def url(self, op: BulkOp, token: str | None, base_url: str) -> str | None:
        if token is None or self.expired(op):
            return None
        return f"{base_url}/admin/bulk-results/{token}.jsonl?X-Goog-Expires={int(op.expires_at)}"

    def download(self, name: str, _query: dict[str, list[str]], _wall: float) -> Response:
        token = name.removesuffix(".jsonl")
        with self._lock:
            entry = self.files.get(token)
        if entry is None:
            return Response(
                status=404,
                body=b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>NoSuchKey</Code>"
                b"<Message>The specified key does not exist.</Message></Error>",
                headers={"Content-Type": "application/xml; charset=UTF-8"},
            )
        path, op = entry
        with self._lock:
            forced = _take(self._expired_faults)
        if forced is not None or self.expired(op):
            at = _utc(op.expires_at).strftime("%Y-%m-%dT%H:%M:%SZ")
            return Response(
                status=400,
                body=EXPIRED_BODY.format(at=at).encode(),
                headers={"Content-Type": "application/xml; charset=UTF-8"},
            )
        return Response(status=200, file=path, headers={"Content-Type": "application/jsonl"})


def _take(faults: list[dict[str, Any]]) -> dict[str, Any] | None:
    for fault in faults:
        if fault["remaining"] is None:
            return fault
        fault["remaining"] -= 1
        if fault["remaining"] <= 0:
            faults.remove(fault)
        return fault
    return None


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


TYPE_NAMES[BulkOp] = "BulkOperation"
