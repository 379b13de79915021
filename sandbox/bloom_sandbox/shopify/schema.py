"""The sandbox's Shopify schema (``schema.graphql``) with its scalars and resolvers bound."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from graphql import GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema, build_schema

from bloom_sandbox.shopify.pagination import paginate
from bloom_sandbox.shopify.resolvers import CONNECTIONS, FIELDS, Resolver
from bloom_sandbox.shopify.views import TYPE_NAMES

SDL_PATH = Path(__file__).with_name("schema.graphql")
CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def serialize_datetime(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


SCALARS = {
    "DateTime": serialize_datetime,
    "Decimal": str,
    "Money": str,
    "URL": str,
    "UnsignedInt64": str,
    "BigInt": str,
}


def snake(name: str) -> str:
    return CAMEL.sub("_", name).lower()


def default_value(obj: Any, name: str, attr: str) -> Any:
    """A field not in the resolver tables: a dict's key, else the snake_case attribute."""
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, attr, None)


def field_resolver(type_name: str, field_name: str) -> Resolver:
    """The plain ``(obj, ctx, args)`` function giving a (non-connection) field's value."""
    fn = FIELDS.get(type_name, {}).get(field_name)
    if fn is not None:
        return fn
    attr = snake(field_name)
    return lambda obj, _ctx, _args: default_value(obj, field_name, attr)


@cache
def load_schema() -> GraphQLSchema:
    """Build the schema once and bind the resolvers, scalars and the Node type resolution."""
    schema = build_schema(SDL_PATH.read_text())
    for name, serialize in SCALARS.items():
        schema.type_map[name].serialize = serialize  # type: ignore[attr-defined]
    for type_name, gtype in schema.type_map.items():
        if not isinstance(gtype, GraphQLObjectType) or type_name.startswith("__"):
            continue
        for field_name, gfield in gtype.fields.items():
            connection = CONNECTIONS.get(type_name, {}).get(field_name)
            gfield.resolve = (
                _graphql_connection(connection) if connection else _graphql_field(field_resolver(type_name, field_name))
            )
    schema.type_map["Node"].resolve_type = _resolve_type  # type: ignore[attr-defined]
    return schema


def _graphql_field(fn: Resolver) -> Any:
    def resolve(obj: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        return fn(obj, info.context, args)

    return resolve


def _graphql_connection(fn: Resolver) -> Any:
    def resolve(obj: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        return paginate(fn(obj, info.context, args), args)

    return resolve


def _resolve_type(obj: Any, _info: GraphQLResolveInfo, _type: Any) -> str | None:
    return TYPE_NAMES.get(type(obj))
