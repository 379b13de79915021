"""An upper bound of a query's requested cost, computed from its text before it is sent.

Shopify checks a query's *requested* cost against the bucket before running it. Once a
query has been answered the tap knows that cost exactly (``extensions.cost``); for the
first request of each query it estimates it here with Shopify's documented sizing, erring
high: a connection costs ``2 + g(first) x (cost of one node)``, a list with ``first`` the
same, an object 1 (``pageInfo`` and money objects 0), a ``...Count`` field 10, a mutation
10; ``nodes(ids:)`` costs one node per id.
"""

from __future__ import annotations

import typing as t
from functools import cache

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    parse,
)

from tap_shopify_bloom.throttle import MAX_QUERY_COST, connection_factor

COUNT_COST = 10
MUTATION_COST = 10
MONEY_V2 = frozenset({"amount", "currencyCode"})
MONEY_BAG = frozenset({"shopMoney", "presentmentMoney"})


@cache
def _document(query: str) -> tuple[OperationDefinitionNode, dict[str, FragmentDefinitionNode]]:
    document = parse(query, no_location=True)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return operation, fragments


def _argument(field: FieldNode, name: str, variables: t.Mapping[str, t.Any]) -> t.Any:
    for argument in field.arguments or ():
        if argument.name.value == name:
            value = argument.value
            if isinstance(value, VariableNode):
                return variables.get(value.name.value)
            return getattr(value, "value", None) or [getattr(v, "value", None) for v in getattr(value, "values", [])]
    return None


def _selection_cost(
    selection_set: SelectionSetNode | None,
    fragments: t.Mapping[str, FragmentDefinitionNode],
    variables: t.Mapping[str, t.Any],
) -> float:
    if selection_set is None:
        return 0.0
    total = 0.0
    for selection in selection_set.selections:
        if isinstance(selection, FragmentSpreadNode):
            total += _selection_cost(fragments[selection.name.value].selection_set, fragments, variables)
        elif isinstance(selection, InlineFragmentNode):
            total += _selection_cost(selection.selection_set, fragments, variables)
        elif isinstance(selection, FieldNode) and selection.selection_set is not None:
            total += _field_cost(selection, fragments, variables)
    return total


def _free(field: FieldNode) -> bool:
    """``pageInfo`` and money objects (``MoneyV2``, ``MoneyBag``), which Shopify does not charge."""
    names = (
        {s.name.value for s in field.selection_set.selections if isinstance(s, FieldNode)}
        if field.selection_set
        else set()
    )
    return field.name.value == "pageInfo" or (bool(names) and (names <= MONEY_V2 or names <= MONEY_BAG))


def _field_cost(
    field: FieldNode, fragments: t.Mapping[str, FragmentDefinitionNode], variables: t.Mapping[str, t.Any]
) -> float:
    if field.name.value.endswith("Count"):
        return COUNT_COST
    inner = _selection_cost(field.selection_set, fragments, variables)
    own = 0.0 if _free(field) else 1.0
    first = _argument(field, "first", variables)
    selected = (
        {s.name.value for s in field.selection_set.selections if isinstance(s, FieldNode)}
        if field.selection_set
        else set()
    )
    if first and selected & {"nodes", "edges"}:  # a connection: its nodes are counted inside
        return 2 + connection_factor(int(first)) * inner
    if first:  # a list cut to `first` elements
        return connection_factor(int(first)) * (own + inner)
    ids = _argument(field, "ids", variables)
    if isinstance(ids, list):
        return max(1, len(ids)) * (own + inner)
    return own + inner


def requested_cost(query: str, variables: t.Mapping[str, t.Any] | None = None) -> float:
    """An upper bound of what Shopify will say ``query`` requests (at most its 1000-point limit)."""
    operation, fragments = _document(query)
    cost = _selection_cost(operation.selection_set, fragments, variables or {})
    if operation.operation == OperationType.MUTATION:
        cost += MUTATION_COST
    return min(float(MAX_QUERY_COST), max(1.0, cost))
