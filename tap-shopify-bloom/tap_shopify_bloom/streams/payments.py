"""Shopify Payments: payouts and balance transactions (fees, payout association)."""

from __future__ import annotations

import typing as t
from datetime import timedelta

from typing_extensions import override

from tap_shopify_bloom.client import WindowedStream
from tap_shopify_bloom.records import Node, decimal_sum, dig, legacy_gid

if t.TYPE_CHECKING:
    import requests

# The summary fields the sandbox serves too; Shopify also has advance, reserved-funds and
# retried-payout parts (rare; not yet summed, see the README).
SUMMARY_GROSS = ("adjustmentsGross", "chargesGross", "refundsFeeGross")
SUMMARY_FEES = ("adjustmentsFee", "chargesFee", "refundsFee")


class PaymentsStream(WindowedStream):
    """A stream under ``shopifyPaymentsAccount``, skipped with a warning when that is null."""

    # Payout status and a balance transaction's payout change after the fact.
    lookback = timedelta(days=14)

    @override
    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        if dig(response.json(), "data", "shopifyPaymentsAccount") is None and "payments" not in self._warned:
            self._warned.add("payments")
            self.logger.warning(
                "%s skipped: Shopify Payments is not enabled on this shop (no shopifyPaymentsAccount). "
                "The other streams go on.",
                self.name,
            )
        return super().parse_response(response)


class PayoutsStream(PaymentsStream):
    """Shopify Payments payouts, by issue time."""

    name = "payouts"
    primary_keys = ("shop", "id")
    replication_key = "issued_at"
    connection_path = ("shopifyPaymentsAccount", "payouts")
    filter_field = "issued_at"
    cursor_field = "issuedAt"
    page_size = 100

    @override
    def to_row(self, node: Node) -> dict[str, t.Any]:
        summary = node.get("summary") or {}
        return {
            "id": node["id"],
            "issued_at": node.get("issuedAt"),
            "status": node.get("status"),
            "net": dig(node, "net", "amount"),
            "gross": decimal_sum(dig(summary, k, "amount") for k in SUMMARY_GROSS),
            "fee": decimal_sum(dig(summary, k, "amount") for k in SUMMARY_FEES),
            "currency": dig(node, "net", "currencyCode"),
        }


class BalanceTransactionsStream(PaymentsStream):
    """Shopify Payments balance transactions, by processing time."""

    name = "balance_transactions"
    primary_keys = ("shop", "id")
    replication_key = "transaction_date"
    connection_path = ("shopifyPaymentsAccount", "balanceTransactions")
    filter_field = "processed_at"
    cursor_field = "transactionDate"
    page_size = 250

    @override
    def to_row(self, node: Node) -> dict[str, t.Any]:
        return {
            "id": node["id"],
            "transaction_date": node.get("transactionDate"),
            "type": node.get("type"),
            "amount": dig(node, "amount", "amount"),
            "fee": dig(node, "fee", "amount"),
            "net": dig(node, "net", "amount"),
            "currency": dig(node, "amount", "currencyCode"),
            "payout_id": dig(node, "associatedPayout", "id"),
            "source_order_id": dig(node, "associatedOrder", "id"),
            "source_order_transaction_id": legacy_gid("OrderTransaction", node.get("sourceOrderTransactionId")),
            "test": node.get("test"),
        }
