"""Every query the tap sends validates against Shopify's own 2026-10 schema."""

from __future__ import annotations

import gzip
import json
from importlib import resources
from pathlib import Path

import pytest
from graphql import (
    FragmentDefinitionNode,
    OperationDefinitionNode,
    build_client_schema,
    build_schema,
    parse,
    validate,
)
from tap_shopify_bloom.bulk import bulk_query_text
from tap_shopify_bloom.client import load_query
from tap_shopify_bloom.cost import requested_cost
from tap_shopify_bloom.incremental import BulkWindowedStream
from tap_shopify_bloom.streams import STREAM_TYPES

# Shopify's published schema, kept in the repository (tests/reference/README.md: origin and date).
REFERENCE = Path(__file__).resolve().parents[2] / "tests/reference/shopify/admin_2026-10.introspection.json.gz"
QUERIES_DIR = resources.files("tap_shopify_bloom") / "queries"
QUERIES = sorted(QUERIES_DIR.iterdir(), key=lambda p: p.name)


@pytest.fixture(scope="module")
def shopify_schema():
    if not REFERENCE.exists():
        pytest.fail(f"Shopify's reference schema is missing at {REFERENCE}")
    with gzip.open(REFERENCE) as handle:
        introspection = json.load(handle)
    return build_client_schema(introspection.get("data", introspection))


NAMES = [
    q.name.removesuffix(".graphql") for q in QUERIES if q.name.endswith(".graphql") and q.name != "fragments.graphql"
]


@pytest.mark.parametrize("name", NAMES)
def test_query_sent_validates(shopify_schema, name):
    """What the tap sends: the query with the shared fragments it uses."""
    assert validate(shopify_schema, parse(load_query(name))) == []


BULK_NAMES = sorted(
    q.name.removesuffix(".graphql") for q in (QUERIES_DIR / "bulk").iterdir() if q.name.endswith(".graphql")
)


@pytest.mark.parametrize("name", BULK_NAMES)
def test_bulk_query_validates(shopify_schema, name):
    assert validate(shopify_schema, parse(bulk_query_text(name, "updated_at:>='2026-01-01T00:00:00Z'"))) == []


def test_every_stream_has_a_query():
    names = {q.name for q in QUERIES}
    for stream_type in STREAM_TYPES:
        assert f"{stream_type.query_name or stream_type.name}.graphql" in names
        if issubclass(stream_type, BulkWindowedStream):  # its count and bulk queries too
            assert f"{stream_type.count_query}.graphql" in names
            assert stream_type.name in BULK_NAMES


@pytest.fixture(scope="module")
def sandbox_schema():
    sandbox = pytest.importorskip("bloom_sandbox")
    path = Path(sandbox.__file__).parent / "shopify" / "schema.graphql"
    return build_schema(path.read_text())


# The sandbox has no `currentAppInstallation` (the tap then skips its read_all_orders check)
# and no `productsCount` / `customersCount` yet (those streams then page, no bulk).
SANDBOX_GAPS = {"access_scopes", "products_count", "customers_count"}


@pytest.mark.parametrize("name", [n for n in NAMES if n not in SANDBOX_GAPS])
def test_query_sent_validates_against_the_sandbox(sandbox_schema, name):
    """The sandbox serves a subset of Shopify's schema: every query must fit in it too."""
    assert validate(sandbox_schema, parse(load_query(name))) == []


@pytest.mark.parametrize("name", BULK_NAMES)
def test_bulk_query_validates_against_the_sandbox(sandbox_schema, name):
    assert validate(sandbox_schema, parse(bulk_query_text(name, "updated_at:>='2026-01-01T00:00:00Z'"))) == []


@pytest.mark.parametrize("name", [n for n in NAMES if n not in SANDBOX_GAPS])
@pytest.mark.parametrize("size", [1, 10, 250])
def test_first_request_bound_is_not_below_the_sandboxs_price(name, size):
    """Before Shopify has priced a query the tap waits for an upper bound of its cost."""
    cost = pytest.importorskip("bloom_sandbox.shopify.cost")
    schema = pytest.importorskip("bloom_sandbox.shopify.schema").load_schema()
    document = parse(load_query(name))
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    variables = {"first": size, "ids": ["gid://shopify/Refund/1"] * size, "id": "gid://shopify/Order/1", "query": ""}
    assert requested_cost(load_query(name), variables) >= cost.analyze(schema, operation, fragments, variables).cost
