"""Customers, personal fields kept, hashed or dropped per the ``pii`` setting."""

from __future__ import annotations

import typing as t

from typing_extensions import override

from tap_shopify_bloom.incremental import BulkWindowedStream
from tap_shopify_bloom.records import Node, dig, protect


class CustomersStream(BulkWindowedStream):
    """Customers updated in each window; large windows by bulk operation."""

    name = "customers"
    primary_keys = ("shop", "id")
    replication_key = "updated_at"
    connection_path = ("customers",)
    history_before_start_date = True  # every customer, not just recently updated ones
    page_size = 250
    count_query = "customers_count"
    required_scope = "read_customers"

    @override
    def to_row(self, node: Node) -> dict[str, t.Any]:
        mode = self.settings.pii
        return {
            "id": node["id"],
            "email": protect(dig(node, "defaultEmailAddress", "emailAddress"), mode),
            "first_name": protect(node.get("firstName"), mode),
            "last_name": protect(node.get("lastName"), mode),
            "phone": protect(dig(node, "defaultPhoneNumber", "phoneNumber"), mode),
            "country_code": dig(node, "defaultAddress", "countryCodeV2"),
            "city": protect(dig(node, "defaultAddress", "city"), mode),
            "created_at": node.get("createdAt"),
            "updated_at": node.get("updatedAt"),
        }
