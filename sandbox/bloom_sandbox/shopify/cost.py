"""Query cost, the way Shopify computes it (DESIGN.md, "Facts about the outside APIs").

A connection costs ``2 + g(first) x (cost of one node)`` with ``g(n) = max(1, floor(2 ln n))``;
an object costs 1; scalars, enums, money and address objects cost 0; a ``...Count`` field 10;
a mutation field 10. The requested cost is computed before running the query from its
arguments; the actual cost afterwards from what came back (sizes of the returned pages).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    value_from_ast,
)

from bloom_sandbox.shopify.pagination import check_page_args

FREE_OBJECTS = frozenset({"MoneyV2", "MoneyBag", "MailingAddress", "PageInfo"})
COUNT_COST = 10
MUTATION_COST = 10
MAX_COST = 1000


def g(n: int) -> int:
    """Shopify's observed page-size factor: 1, 10, 50, 100, 250 -> 1, 4, 7, 9, 11."""
    return max(1, math.floor(2 * math.log(n))) if n > 1 else 1


@dataclass
class CostProblem:
    message: str
    path: list[str | int]
    node: FieldNode


@dataclass
class Analysis:
    """The requested cost of an operation and what Shopify would refuse before running it."""

    cost: int = 0
    problems: list[CostProblem] = field(default_factory=list)
    deprecated: set[str] = field(default_factory=set)


def is_connection(gtype: GraphQLNamedType) -> bool:
    return isinstance(gtype, GraphQLObjectType) and gtype.name.endswith("Connection") and "pageInfo" in gtype.fields


def is_list_type(field_type: Any) -> bool:
    if isinstance(field_type, GraphQLNonNull):
        field_type = field_type.of_type
    return isinstance(field_type, GraphQLList)


class SelectionWalker:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode], variables: dict) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def fields(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType) -> list[tuple[FieldNode, Any]]:
        """(field node, parent type) pairs of a selection set with fragments flattened."""
        out: list[tuple[FieldNode, Any]] = []
        if selection_set is None:
            return out
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                out.append((sel, parent))
            elif isinstance(sel, InlineFragmentNode):
                cond = self.schema.get_type(sel.type_condition.name.value) if sel.type_condition else parent
                out.extend(self.fields(sel.selection_set, cond or parent))
            elif isinstance(sel, FragmentSpreadNode):
                frag = self.fragments.get(sel.name.value)
                if frag is not None:
                    cond = self.schema.get_type(frag.type_condition.name.value)
                    out.extend(self.fields(frag.selection_set, cond or parent))
        return out

    def args(self, node: FieldNode, parent: Any) -> dict[str, Any]:
        gfield = parent.fields.get(node.name.value) if hasattr(parent, "fields") else None
        if gfield is None:
            return {}
        out = {}
        for arg in node.arguments or ():
            definition = gfield.args.get(arg.name.value)
            if definition is not None:
                out[arg.name.value] = value_from_ast(arg.value, definition.type, self.variables)
        return out


def analyze(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict,
) -> Analysis:
    """Requested cost, refusals (page sizes) and deprecated fields used by ``operation``."""
    walker = SelectionWalker(schema, fragments, variables or {})
    analysis = Analysis()
    if operation.operation == OperationType.MUTATION:
        root = schema.mutation_type
        analysis.cost = MUTATION_COST * len(walker.fields(operation.selection_set, root))
        return analysis
    analysis.cost = _requested(walker, operation.selection_set, schema.query_type, [], analysis)
    return analysis


def _requested(walker: SelectionWalker, selection_set: Any, parent: Any, path: list, analysis: Analysis) -> int:
    total = 0
    for node, ptype in walker.fields(selection_set, parent):
        name = node.name.value
        if name.startswith("__") or not hasattr(ptype, "fields") or name not in ptype.fields:
            continue
        gfield = ptype.fields[name]
        if gfield.deprecation_reason:
            analysis.deprecated.add(f"{ptype.name}.{name}")
        named = get_named_type(gfield.type)
        key = node.alias.value if node.alias else name
        here = [*path, key]
        if is_connection(named):
            args = walker.args(node, ptype)
            problem = check_page_args(args.get("first"), args.get("last"))
            if problem:
                analysis.problems.append(CostProblem(problem, here, node))
                continue
            size = args.get("first") if args.get("first") is not None else args.get("last")
            total += 2 + g(size) * _node_cost(walker, node, named, here, analysis)
        elif name.endswith("Count") and named.name == "Count":
            total += COUNT_COST
        elif not hasattr(named, "fields") and not hasattr(named, "resolve_type"):
            continue  # scalar or enum
        else:
            own = 0 if named.name in FREE_OBJECTS else 1
            sub = own + _requested(walker, node.selection_set, named, here, analysis)
            if is_list_type(gfield.type):
                first = walker.args(node, ptype).get("first")
                sub *= g(first) if first else 1
            total += sub
    return total


def _node_cost(walker: SelectionWalker, conn: FieldNode, conn_type: Any, path: list, analysis: Analysis) -> int:
    """Cost of one node of a connection: its edges.node and nodes selections."""
    node_type = get_named_type(conn_type.fields["nodes"].type)
    cost = 0
    for sub, _ in walker.fields(conn.selection_set, conn_type):
        if sub.name.value == "nodes":
            cost += 1 + _requested(walker, sub.selection_set, node_type, [*path, "nodes"], analysis)
        elif sub.name.value == "edges":
            edge_type = get_named_type(conn_type.fields["edges"].type)
            for inner, _ in walker.fields(sub.selection_set, edge_type):
                if inner.name.value == "node":
                    cost += 1 + _requested(walker, inner.selection_set, node_type, [*path, "edges", "node"], analysis)
    return cost


def actual_cost(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict,
    data: dict[str, Any] | None,
) -> int:
    """The cost of what a query returned: connections by the number of nodes they gave."""
    walker = SelectionWalker(schema, fragments, variables or {})
    if operation.operation == OperationType.MUTATION:
        return MUTATION_COST * len(walker.fields(operation.selection_set, schema.mutation_type))
    return _actual(walker, operation.selection_set, schema.query_type, data or {})


def _actual(walker: SelectionWalker, selection_set: Any, parent: Any, data: Any) -> int:
    if not isinstance(data, dict):
        return 0
    total = 0
    for node, ptype in walker.fields(selection_set, parent):
        name = node.name.value
        key = node.alias.value if node.alias else name
        if key not in data or data[key] is None or not hasattr(ptype, "fields") or name not in ptype.fields:
            continue
        value = data[key]
        gfield = ptype.fields[name]
        named = get_named_type(gfield.type)
        if is_connection(named):
            total += 2 + _actual_nodes(walker, node, named, value)
        elif name.endswith("Count") and named.name == "Count":
            total += COUNT_COST
        elif not hasattr(named, "fields") and not hasattr(named, "resolve_type"):
            continue
        else:
            own = 0 if named.name in FREE_OBJECTS else 1
            items = value if isinstance(value, list) else [value]
            costs = [own + _actual(walker, node.selection_set, named, item) for item in items if item is not None]
            if costs:
                total += g(len(costs)) * max(costs) if isinstance(value, list) else costs[0]
    return total


def _actual_nodes(walker: SelectionWalker, conn: FieldNode, conn_type: Any, value: dict[str, Any]) -> int:
    node_type = get_named_type(conn_type.fields["nodes"].type)
    edge_type = get_named_type(conn_type.fields["edges"].type)
    per_node: list[int] = []
    count = 0
    for sub, _ in walker.fields(conn.selection_set, conn_type):
        key = sub.alias.value if sub.alias else sub.name.value
        items = value.get(key)
        if not isinstance(items, list):
            continue
        count = max(count, len(items))
        if sub.name.value == "nodes":
            per_node += [1 + _actual(walker, sub.selection_set, node_type, item) for item in items]
        elif sub.name.value == "edges":
            for inner, _ in walker.fields(sub.selection_set, edge_type):
                ikey = inner.alias.value if inner.alias else inner.name.value
                if inner.name.value == "node":
                    per_node += [1 + _actual(walker, inner.selection_set, node_type, e.get(ikey)) for e in items if e]
    return g(count) * max(per_node) if count and per_node else 0
