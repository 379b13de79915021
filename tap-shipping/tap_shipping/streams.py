"""The stream registry: which streams exist for the configured provider accounts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tap_shipping.label_streams import ShippingLabelsStream
from tap_shipping.page_memo import PageMemo
from tap_shipping.rate_limit import RateGate
from tap_shipping.settings import (
    configured_accounts,
    shippo_requests_per_minute,
    shippo_single_requests_per_minute,
)
from tap_shipping.shippo_streams import RefundsStream, TransactionsStream
from tap_shipping.shipstation_streams import ShipmentsStream

if TYPE_CHECKING:
    from singer_sdk import Stream

    from tap_shipping.tap import TapShipping


def build_streams(tap: TapShipping) -> list[Stream]:
    """Raw streams for each configured provider, and ``shipping_labels`` over all of them.

    All streams of one account share one rate gate, so their requests count against one budget
    (Shippo a second one for fetches of one object by id, which have their own, far higher limit),
    and one page memo, so ``shipping_labels`` and the raw streams fetch each page once.
    """
    sources: dict[str, Stream] = {}
    labels: list[ShippingLabelsStream] = []  # built last; the memos ask whether it is selected
    for account in configured_accounts(tap.config, known=tap.config_jsonschema["properties"]):
        memo = PageMemo(labels_selected=lambda: bool(labels) and labels[0].selected)
        if account.provider == "shipstation":
            sources["shipments"] = ShipmentsStream(tap, account, RateGate(), memo)
        else:
            gate = RateGate.per_minute(shippo_requests_per_minute(tap.config), tap.config.get("shippo_burst"))
            single = RateGate.per_minute(shippo_single_requests_per_minute(tap.config))
            sources["transactions"] = TransactionsStream(tap, account, gate, memo, single_gate=single)
            sources["refunds"] = RefundsStream(tap, account, gate, memo, single_gate=single)
    labels.append(ShippingLabelsStream(tap, **sources))  # type: ignore[arg-type]
    return [*sources.values(), labels[0]]
