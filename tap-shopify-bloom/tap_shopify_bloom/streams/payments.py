"""Shopify Payments: payouts and balance transactions (fees, payout association)."""

from __future__ import annotations

import typing as t
from datetime import timedelta

from typing_extensions import override

from tap_shopify_bloom.incremental import WindowedStream
from tap_shopify_bloom.records import Node, decimal_sum, dig, legacy_gid

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

# The summary fields the sandbox serves too; Shopify also has advance, reserved-funds and
# retried-payout parts (rare; not yet summed, see the README).
SUMMARY_GROSS = ("adjustmentsGross", "chargesGross", "refundsFeeGross")
SUMMARY_FEES = ("adjustmentsFee", "chargesFee", "refundsFee")


class PaymentsStream(WindowedStream):
    """A stream under ``shopifyPaymentsAccount``: skipped, state untouched, when that is null.

    Whether the shop has Shopify Payments is asked once per run (``payments_account``, 1
    point) and shared by both payments streams through the tap, so one warning covers both
    and no window is fetched (nor recorded as done) while the account is missing: once
    Payments is enabled, the next run fetches the whole history.
    """

    # Payout status and a balance transaction's payout change after the fact.
    lookback = timedelta(days=14)

    def payments_enabled(self) -> bool:
        """Whether the shop has a Shopify Payments account (asked once per tap)."""
        known: bool | None = getattr(self.owner, "payments_enabled", None)
        if known is None:
            account = self.graphql("payments_account", {}).get("shopifyPaymentsAccount")
            known = account is not None
            self.owner.payments_enabled = known
            if not known:
                skipped = [s.name for s in self.owner.streams.values() if isinstance(s, PaymentsStream) and s.selected]
                self.logger.warning(
                    "%s skipped: Shopify Payments is not enabled on this shop (no shopifyPaymentsAccount). "
                    "The other streams go on.",
                    " and ".join(skipped),
                )
        return known

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        if self.payments_enabled():
            yield from super().get_records(context)

    @override
    def needs_first_sync(self) -> bool:
        return super().needs_first_sync() and self.payments_enabled()


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
