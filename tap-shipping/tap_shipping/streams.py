"""The stream registry: which streams exist for the configured provider accounts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tap_shipping.label_streams import ShippingLabelsStream
from tap_shipping.rate_limit import RateGate
from tap_shipping.settings import configured_accounts, shippo_requests_per_minute
from tap_shipping.shippo_streams import RefundsStream, TransactionsStream
from tap_shipping.shipstation_streams import ShipmentsStream

if TYPE_CHECKING:
    from singer_sdk import Stream

    from tap_shipping.tap import TapShipping


def build_streams(tap: TapShipping) -> list[Stream]:
    """Raw streams for each configured provider, and ``shipping_labels`` over all of them.

    All streams of one account share one rate gate, so their requests count against one budget.
    """
    streams: list[Stream] = []
    sources: dict[str, Stream] = {}
    for account in configured_accounts(tap.config):
        if account.provider == "shipstation":
            sources["shipments"] = ShipmentsStream(tap, account, RateGate())
        else:
            gate = RateGate(min_interval=60.0 / shippo_requests_per_minute(tap.config))
            sources["transactions"] = TransactionsStream(tap, account, gate)
            sources["refunds"] = RefundsStream(tap, account, gate)
    streams.extend(sources.values())
    streams.append(ShippingLabelsStream(tap, **sources))  # type: ignore[arg-type]
    return streams
