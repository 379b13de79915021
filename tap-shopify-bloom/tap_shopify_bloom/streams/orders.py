"""Orders (with line items, shipping lines and refunds nested) and their transactions."""

from __future__ import annotations

import typing as t
from datetime import timedelta

from singer_sdk.exceptions import FatalAPIError
from typing_extensions import override

from tap_shopify_bloom.errors import MerchantActionError
from tap_shopify_bloom.incremental import BulkWindowedStream
from tap_shopify_bloom.records import Node, bag_sum, decimal_sum, dig, money_pair, nodes, sha256

# Shopify's sales channel names for the order sources it sets itself (for an order without
# ``app``, the app that created it, whose name is the channel).
CHANNELS = {
    "web": "Online Store",
    "pos": "Point of Sale",
    "shopify_draft_order": "Draft Orders",
    "iphone": "Shopify Mobile",
    "android": "Shopify Mobile",
}


def channel(node: Node) -> str | None:
    """The sales channel of an order: the name of the app that created it (``Order.app``).

    Lacking an app, the channel of its source (an app's own source name stays as it is).
    """
    source_name = node.get("sourceName")
    return dig(node, "app", "name") or CHANNELS.get(source_name or "", source_name)


if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


def _line_item(item: Node) -> dict[str, t.Any]:
    return {
        "id": item["id"],
        "variant_id": dig(item, "variant", "id"),
        "product_id": dig(item, "product", "id"),
        "sku": item.get("sku"),
        "title": item.get("title"),
        "quantity": item.get("quantity"),
        **money_pair("original_unit_price", item.get("originalUnitPriceSet")),
        **money_pair("total_discount", item.get("totalDiscountSet")),
        **bag_sum("tax", (tax.get("priceSet") for tax in item.get("taxLines") or [])),
        "is_gift_card": item.get("isGiftCard"),
        "requires_shipping": item.get("requiresShipping"),
    }


def _shipping_line(line: Node) -> dict[str, t.Any]:
    return {
        "id": line.get("id"),
        "title": line.get("title"),
        "code": line.get("code"),
        **money_pair("original_price", line.get("originalPriceSet")),
        **money_pair("discounted_price", line.get("discountedPriceSet")),
        **bag_sum("tax", (tax.get("priceSet") for tax in line.get("taxLines") or [])),
    }


def _refund_line_item(item: Node) -> dict[str, t.Any]:
    return {
        "id": item.get("id"),
        "line_item_id": dig(item, "lineItem", "id"),
        "quantity": item.get("quantity"),
        "restock_type": item.get("restockType"),
        **money_pair("subtotal", item.get("subtotalSet")),
        **money_pair("total_tax", item.get("totalTaxSet")),
    }


def _refund(refund: Node) -> dict[str, t.Any]:
    shipping = nodes(refund.get("refundShippingLines"))
    return {
        "id": refund["id"],
        "created_at": refund.get("createdAt"),
        "processed_at": refund.get("processedAt"),
        "note": refund.get("note"),
        **money_pair("total_refunded", refund.get("totalRefundedSet")),
        "shipping_subtotal": decimal_sum(dig(s, "subtotalAmountSet", "shopMoney", "amount") for s in shipping),
        "shipping_tax": decimal_sum(dig(s, "taxAmountSet", "shopMoney", "amount") for s in shipping),
        "refund_line_items": [_refund_line_item(i) for i in nodes(refund.get("refundLineItems"))],
    }


def order_row(node: Node) -> dict[str, t.Any]:
    """The ``orders`` row of an ``Order`` node (paginated or joined from bulk lines)."""
    return {
        "id": node["id"],
        "name": node.get("name"),
        "number": node.get("number"),
        "email_hash": sha256(node.get("email")),
        "customer_id": dig(node, "customer", "id"),
        "created_at": node.get("createdAt"),
        "processed_at": node.get("processedAt"),
        "updated_at": node.get("updatedAt"),
        "cancelled_at": node.get("cancelledAt"),
        "cancel_reason": node.get("cancelReason"),
        "closed_at": node.get("closedAt"),
        "test": node.get("test"),
        "financial_status": node.get("displayFinancialStatus"),
        "fulfillment_status": node.get("displayFulfillmentStatus"),
        "currency": node.get("currencyCode"),
        "presentment_currency": node.get("presentmentCurrencyCode"),
        **money_pair("subtotal", node.get("subtotalPriceSet")),
        **money_pair("total_discounts", node.get("totalDiscountsSet")),
        **money_pair("total_shipping", node.get("totalShippingPriceSet")),
        **money_pair("total_tax", node.get("totalTaxSet")),
        **money_pair("total_price", node.get("totalPriceSet")),
        **money_pair("total_refunded", node.get("totalRefundedSet")),
        "source_name": node.get("sourceName"),
        "channel": channel(node),
        "app_id": dig(node, "app", "id"),
        "tags": list(node.get("tags") or []),
        "shipping_country": dig(node, "shippingAddress", "countryCodeV2"),
        "line_items": [_line_item(i) for i in nodes(node.get("lineItems"))],
        "shipping_lines": [_shipping_line(s) for s in nodes(node.get("shippingLines"))],
        "refunds": [_refund(r) for r in nodes(node.get("refunds"))],
    }


def transaction_row(node: Node) -> dict[str, t.Any]:
    """The ``transactions`` row of an ``OrderTransaction`` node with its ``order``."""
    fees = [dig(f, "amount") for f in node.get("fees") or []]
    return {
        "id": node["id"],
        "order_id": dig(node, "order", "id"),
        "parent_id": dig(node, "parentTransaction", "id"),
        "kind": node.get("kind"),
        "status": node.get("status"),
        "gateway": node.get("gateway"),
        **money_pair("amount", node.get("amountSet")),
        "currency": dig(node, "amountSet", "shopMoney", "currencyCode"),
        "presentment_currency": dig(node, "amountSet", "presentmentMoney", "currencyCode"),
        "fee": decimal_sum(f.get("amount") for f in fees) if fees else None,
        "fee_currency": fees[0].get("currencyCode") if fees else None,
        "processed_at": node.get("processedAt"),
        "test": node.get("test"),
    }


class OrdersStream(BulkWindowedStream):
    """Orders updated in each window; line items, shipping lines and refunds nested."""

    name = "orders"
    primary_keys = ("shop", "id")
    replication_key = "updated_at"
    connection_path = ("orders",)
    page_size = 10  # grows once Shopify has said what a page costs
    bulk_children: t.ClassVar[dict[str, str]] = {"LineItem": "lineItems", "ShippingLine": "shippingLines"}
    bulk_companions: t.ClassVar[tuple[str, ...]] = ("transactions",)  # same order windows
    keyed_children: t.ClassVar[tuple[str, ...]] = ("refunds",)  # their details come by id
    #: Refunds per follow-up query (each asks for up to 50 refund line items).
    refund_batch = 20
    #: Refunds per order in ``orders.graphql`` (``refunds(first: 10)``); more are fetched whole.
    max_refunds = 10

    @override
    def to_row(self, node: Node) -> dict[str, t.Any]:
        return order_row(node)

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        self.check_all_orders_scope()
        yield from super().get_records(context)

    def check_all_orders_scope(self) -> None:
        """Warn when history older than 60 days is wanted but ``read_all_orders`` is missing.

        Shopify then hides older orders without an error. Where the granted scopes cannot
        be read, nothing is said.
        """
        if self.settings.start_date > self.now() - timedelta(days=60):
            return
        try:
            data = self.graphql("access_scopes", {})
        except MerchantActionError:
            raise
        except FatalAPIError:
            self.logger.debug("The app's access scopes could not be read; read_all_orders not checked")
            return
        granted = {s.get("handle") for s in dig(data, "currentAppInstallation", "accessScopes") or []}
        if granted and "read_all_orders" not in granted:
            self.logger.warning(
                "orders: the app lacks the scope `read_all_orders`, so Shopify shows only the last 60 days "
                "of orders and hides older history from `start_date`. Grant read_all_orders and reinstall "
                "the app to sync it."
            )

    @override
    def completed(self, nodes: t.Iterable[Node]) -> t.Iterator[Node]:
        return self.with_refund_details(self.with_all_nested(nodes))

    @override
    def completed_bulk(self, nodes: t.Iterable[Node]) -> t.Iterator[Node]:
        # A bulk query has every line item, shipping line and refund already.
        return self.with_refund_details(nodes)

    def with_all_nested(self, nodes: t.Iterable[Node]) -> t.Iterator[Node]:
        """Paged orders completed: line items and shipping lines beyond the first nested page
        (``order_line_items``, ``order_shipping_lines``), refunds beyond ``max_refunds``
        (``order_refunds``: the whole list)."""
        for node in nodes:
            order = t.cast("dict[str, t.Any]", node)
            self.complete_connection(order.get("lineItems") or {}, "order_line_items", order["id"])
            self.complete_connection(order.get("shippingLines") or {}, "order_shipping_lines", order["id"])
            if len(order.get("refunds") or []) >= self.max_refunds:
                data = self.graphql("order_refunds", {"id": order["id"]})
                order["refunds"] = dig(data, "order", "refunds") or order["refunds"]
            yield order

    def with_refund_details(self, nodes: t.Iterable[Node]) -> t.Iterator[Node]:
        """Orders whose refunds carry their refund line items and refunded shipping.

        The order queries (paged and bulk) fetch refunds without those connections: in a
        bulk query they cannot sit inside the ``refunds`` list, and in a page they would
        multiply its requested cost. They come with ``nodes(ids:)``, a batch at a time,
        only for the orders that have refunds; a refund with more than one page of either
        is completed page by page.
        """
        batch: list[Node] = []
        for node in nodes:
            batch.append(node)
            if sum(len(n.get("refunds") or []) for n in batch) >= self.refund_batch:
                yield from self._fill_refunds(batch)
                batch = []
        yield from self._fill_refunds(batch)

    def _fill_refunds(self, batch: list[Node]) -> list[Node]:
        refunds = [refund for node in batch for refund in node.get("refunds") or []]
        for start in range(0, len(refunds), self.refund_batch):
            chunk = refunds[start : start + self.refund_batch]
            data = self.graphql("refund_details", {"ids": [r["id"] for r in chunk]})
            details = {d["id"]: d for d in data.get("nodes") or [] if d}
            for refund in chunk:
                refund.update(details.get(refund["id"], {}))
                self.complete_connection(refund.get("refundLineItems") or {}, "refund_line_items", refund["id"])
                self.complete_connection(refund.get("refundShippingLines") or {}, "refund_shipping_lines", refund["id"])
        return batch


class TransactionsStream(BulkWindowedStream):
    """Transactions of the orders updated in each window (a transaction updates its order)."""

    name = "transactions"
    primary_keys = ("shop", "id")
    replication_key = "processed_at"
    connection_path = ("orders",)
    page_size = 100
    #: Transactions per order in ``transactions.graphql`` (``transactions(first: 50)``).
    max_transactions = 50

    @override
    def completed(self, nodes: t.Iterable[Node]) -> t.Iterator[Node]:
        """Orders with ``max_transactions`` or more: the whole list (``order_transactions``)."""
        for node in nodes:
            if len(node.get("transactions") or []) >= self.max_transactions:
                data = self.graphql("order_transactions", {"id": node["id"]})
                node = {**node, "transactions": dig(data, "order", "transactions") or node["transactions"]}
            yield node

    @override
    def expand(self, node: Node) -> t.Iterable[Node]:
        for transaction in node.get("transactions") or []:
            yield {**transaction, "order": {"id": node["id"]}}

    @override
    def to_row(self, node: Node) -> dict[str, t.Any]:
        return transaction_row(node)
