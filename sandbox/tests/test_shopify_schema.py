"""The sandbox's Shopify schema is a strict subset of Shopify's own 2026-10 Admin API schema."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from bloom_sandbox.shopify.schema import load_schema
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    build_client_schema,
)

# Shopify's published schema, kept in the repository (tests/reference/README.md: origin and date).
REFERENCE = Path(__file__).resolve().parents[2] / "tests/reference/shopify/admin_2026-10.introspection.json.gz"


@pytest.fixture(scope="module")
def reference() -> GraphQLSchema:
    if not REFERENCE.exists():
        pytest.fail(f"Shopify's reference schema is missing at {REFERENCE}")
    with gzip.open(REFERENCE) as fh:
        data = json.load(fh)
    return build_client_schema(data.get("data", data))


def sandbox_types():
    return {name: t for name, t in load_schema().type_map.items() if not name.startswith("__")}


def test_root_types_match(reference):
    ours = load_schema()
    assert ours.query_type.name == reference.query_type.name
    assert ours.mutation_type.name == reference.mutation_type.name


def test_every_type_field_and_argument_exists_in_shopify_with_the_same_type(reference):
    problems = []
    for name, ours in sandbox_types().items():
        theirs = reference.get_type(name)
        if theirs is None or type(theirs) is not type(ours):
            problems.append(f"type {name}: {type(ours).__name__} here, {type(theirs).__name__} in Shopify")
            continue
        if isinstance(ours, GraphQLEnumType):
            extra = set(ours.values) - set(theirs.values)
            if extra:
                problems.append(f"enum {name}: values {sorted(extra)} not in Shopify")
        if isinstance(ours, GraphQLObjectType | GraphQLInterfaceType):
            extra_ifaces = {i.name for i in ours.interfaces} - {i.name for i in theirs.interfaces}
            if extra_ifaces:
                problems.append(f"{name} implements {sorted(extra_ifaces)}, Shopify's does not")
        if isinstance(ours, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for fname, field in ours.fields.items():
                their_field = theirs.fields.get(fname)
                if their_field is None:
                    problems.append(f"{name}.{fname}: no such field in Shopify")
                    continue
                if str(field.type) != str(their_field.type):
                    problems.append(f"{name}.{fname}: {field.type} here, {their_field.type} in Shopify")
                if bool(getattr(field, "deprecation_reason", None)) != bool(
                    getattr(their_field, "deprecation_reason", None)
                ):
                    problems.append(f"{name}.{fname}: deprecation differs from Shopify")
                for aname, arg in getattr(field, "args", {}).items():
                    their_arg = their_field.args.get(aname)
                    if their_arg is None:
                        problems.append(f"{name}.{fname}({aname}): no such argument in Shopify")
                    elif str(arg.type) != str(their_arg.type):
                        problems.append(f"{name}.{fname}({aname}): {arg.type} here, {their_arg.type} in Shopify")
                    elif arg.default_value != their_arg.default_value:
                        problems.append(f"{name}.{fname}({aname}): default {arg.default_value!r} differs")
                for aname, their_arg in getattr(their_field, "args", {}).items():
                    if (
                        str(their_arg.type).endswith("!")
                        and their_arg.default_value is None
                        and aname not in getattr(field, "args", {})
                    ):
                        problems.append(f"{name}.{fname}: required argument {aname} missing")
    assert problems == []


def test_scalars_are_shopify_scalars(reference):
    for name, ours in sandbox_types().items():
        if isinstance(ours, GraphQLScalarType):
            assert isinstance(reference.get_type(name), GraphQLScalarType), name
