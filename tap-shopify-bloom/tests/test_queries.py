"""Every query the tap sends validates against Shopify's own 2026-10 schema."""

from __future__ import annotations

import gzip
import json
from importlib import resources
from pathlib import Path

import pytest
from graphql import build_client_schema, parse, validate
from tap_shopify_bloom.streams import STREAM_TYPES

REFERENCE = Path("/work/shared/reference/shopify/admin_2026-10.introspection.json.gz")
QUERIES = sorted((resources.files("tap_shopify_bloom") / "queries").iterdir(), key=lambda p: p.name)

pytestmark = pytest.mark.skipif(not REFERENCE.exists(), reason="Shopify's reference schema is not beside the checkout")


@pytest.fixture(scope="module")
def shopify_schema():
    with gzip.open(REFERENCE) as handle:
        introspection = json.load(handle)
    return build_client_schema(introspection.get("data", introspection))


@pytest.mark.parametrize("query", [q for q in QUERIES if q.name.endswith(".graphql")], ids=lambda q: q.name)
def test_query_file_validates(shopify_schema, query):
    assert validate(shopify_schema, parse(query.read_text())) == []


def test_every_stream_has_a_query():
    names = {q.name for q in QUERIES}
    for stream_type in STREAM_TYPES:
        assert f"{stream_type.query_name or stream_type.name}.graphql" in names
