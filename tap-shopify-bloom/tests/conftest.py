"""Fixtures: a stubbed Shopify endpoint for offline tests."""

from __future__ import annotations

import re

import pytest

from tests.stub import TOKEN, ShopifyStub


@pytest.fixture
def stub(httpserver) -> ShopifyStub:
    """A Shopify stub served over HTTP on a free loopback port."""
    shopify = ShopifyStub(
        shop={
            "id": "gid://shopify/Shop/1",
            "name": "Stub Shop",
            "myshopifyDomain": "stub-shop.myshopify.com",
            "currencyCode": "USD",
            "ianaTimezone": "America/New_York",
            "createdAt": "2024-01-01T00:00:00Z",
            "plan": {"publicDisplayName": "Basic"},
        }
    )
    graphql_path = re.compile(r"^/admin/api/[^/]+/graphql\.json$")
    httpserver.expect_request(graphql_path, method="POST").respond_with_handler(shopify.handle)
    httpserver.expect_request(re.compile(r"^/bulk/")).respond_with_handler(shopify.download)
    shopify.base_url = httpserver.url_for("/").rstrip("/")
    return shopify


@pytest.fixture
def stub_config(httpserver) -> dict:
    """Settings pointing the tap at the stub."""
    return {
        "store": "stub-shop",
        "access_token": TOKEN,
        "start_date": "2026-06-01T00:00:00Z",
        "api_url": httpserver.url_for("/").rstrip("/"),
    }
