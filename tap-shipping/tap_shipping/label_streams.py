"""``shipping_labels``: every provider's labels in one shape (docs/raw-tables.md).

It reads through the providers' raw streams (their HTTP, paging, rate gates and retries)
with its own window and bookmarks, one per provider account.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from singer_sdk import Stream
from singer_sdk.schema.source import StreamSchema
from typing_extensions import override

from tap_shipping.client import SCHEMAS, finish_history, history_line, window_start
from tap_shipping.normalize import shipping_label_from_shippo, shipping_label_from_shipstation
from tap_shipping.timezones import pacific_to_utc, utc_iso

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_shipping.shippo_streams import RefundsStream, TransactionsStream
    from tap_shipping.shipstation_streams import ShipmentsStream
    from tap_shipping.tap import TapShipping


class ShippingLabelsStream(Stream):
    """One row per label and provider: cost, insurance, void, order reference, times in UTC."""

    name = "shipping_labels"
    schema = StreamSchema(SCHEMAS)
    primary_keys = ("provider", "label_id")
    replication_key = "created_at"
    is_sorted = False  # voids of older labels arrive after newer labels

    def __init__(
        self,
        tap: TapShipping,
        *,
        shipments: ShipmentsStream | None = None,
        transactions: TransactionsStream | None = None,
        refunds: RefundsStream | None = None,
    ) -> None:
        """Read through the given provider streams (``None`` when a provider is not configured)."""
        self.shipments, self.transactions, self.refunds = shipments, transactions, refunds
        super().__init__(tap=tap)

    @property
    @override
    def partitions(self) -> list[dict[str, Any]]:
        sources = [s for s in (self.shipments, self.transactions) if s is not None]
        return [{"provider": s.provider, "account_id": s.account.account_id} for s in sources]

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        since = window_start(self, context)
        partition = (context["provider"], context["account_id"]) if context else ("", "")
        self.logger.info("%s", history_line(self, context, *partition))
        window = {"since": utc_iso(since) if since else None}  # None: everything, whatever the raw streams' state
        if context and context["provider"] == "shipstation" and self.shipments:
            yield from self._shipstation(self.shipments, context["account_id"], window)
        elif context and context["provider"] == "shippo" and self.transactions and self.refunds:
            yield from self._shippo(self.transactions, self.refunds, context["account_id"], window)
        if finish_history(self, context):
            self.logger.info("%s", history_line(self, context, *partition))

    def _shipstation(
        self, shipments: ShipmentsStream, account_id: str, window: dict[str, str | None]
    ) -> Iterable[dict[str, Any]]:
        currency = self.config.get("shipstation_currency", "USD")
        since = window.get("since")
        if since:  # labels created before the window but voided in it
            for shipment in shipments.request_records({"account_id": account_id, "by": "voided", **window}):
                if utc_iso(pacific_to_utc(shipment["createDate"])) < since:
                    yield shipping_label_from_shipstation(shipment, account_id, currency)
        for shipment in shipments.request_records({"account_id": account_id, **window}):
            yield shipping_label_from_shipstation(shipment, account_id, currency)

    @staticmethod
    def _shippo(
        transactions: TransactionsStream, refunds: RefundsStream, account_id: str, window: dict[str, str | None]
    ) -> Iterable[dict[str, Any]]:
        done = {
            r["transaction"]: r
            for r in refunds.request_records({"account_id": account_id, **window})
            if r.get("status") == "SUCCESS"
        }
        seen: set[str] = set()
        for transaction in transactions.request_records({"account_id": account_id, **window}):
            seen.add(transaction["object_id"])
            yield shipping_label_from_shippo(transaction, account_id, done.get(transaction["object_id"]))
        for object_id in sorted(done.keys() - seen):  # older labels voided within the window
            for transaction in transactions.request_records({"account_id": account_id, "object_id": object_id}):
                yield shipping_label_from_shippo(transaction, account_id, done[object_id])
