"""Raw ShipStation shipments and Shippo transactions into ``shipping_labels`` rows.

Columns are those of ``raw_shipping.shipping_labels`` in docs/raw-tables.md. The readers of
raw fields (:func:`identifier`, :func:`amount`, ...) check the records each stream reads. Money is a
decimal string with its currency. ``other_fees`` is ``0.00``: neither API itemises fees
beyond the label price and ShipStation's insurance. Shippo includes insurance bought
through it in ``rate.amount``, so its ``insurance_cost`` is ``0.00``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from tap_shipping.timezones import pacific_to_utc, parse_iso, utc_iso

CENT = Decimal("0.01")
SHIPSTATION_CARRIERS = {
    "stamps_com": "USPS",
    "usps": "USPS",
    "endicia": "USPS",
    "ups": "UPS",
    "ups_walleted": "UPS",
    "fedex": "FedEx",
    "fedex_walleted": "FedEx",
    "dhl_express": "DHL Express",
    "dhl_express_worldwide": "DHL Express",
    "canada_post": "Canada Post",
}
_ORDER_NUMBER = re.compile(r"#?(\d+)(?:-\d+)?")  # "1001", "#1001", "1001-1" (a split shipment)
_METADATA = re.compile(r"(?:^|\border\b[\s:]*)#\s*(\d+)\b|^\s*(\d+)\s*$", re.IGNORECASE)


def money(value: Any) -> str:
    """A decimal string rounded to the cent ("0.00" when absent)."""
    return str(Decimal(str(value if value is not None else 0)).quantize(CENT))


def identifier(value: Any) -> str:
    """An object id: a non-empty string or a whole number."""
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise TypeError(value)
    return str(value)


def whole_number(value: Any) -> int:
    """A whole number given as a JSON number (ShipStation's ids)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(value)
    return value


def amount(value: Any) -> Decimal:
    """A finite decimal number (a string or a JSON number)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise TypeError(value)
    number = Decimal(str(value))
    if not number.is_finite():
        raise ValueError(value)
    return number


def shippo_rate(value: Any) -> Any:
    """Shippo's ``rate``: an expanded object whose ``amount`` is a number, or the rate's id."""
    if isinstance(value, dict):
        return amount(value["amount"]) if value.get("amount") is not None else None
    return identifier(value)


#: How messages describe what each reader of a raw field expects.
EXPECTED = {
    identifier: "an id",
    whole_number: "a whole number",
    amount: "a number",
    shippo_rate: "a rate with a numeric amount",
    parse_iso: "an ISO-8601 time",
    pacific_to_utc: "a ShipStation time like 2024-10-03T06:51:33.627",
}


def field_names(names: set[str]) -> str:
    """Field names for a log line: sorted, quoted, each cut to 60 characters (never a value)."""
    return ", ".join(repr(name if len(name) <= 60 else name[:57] + "...") for name in sorted(names))


def order_ref_from_number(order_number: str | None) -> tuple[str | None, str]:
    """ShipStation's ``orderNumber`` as the Shopify order name, and how it matched."""
    match = _ORDER_NUMBER.fullmatch((order_number or "").strip())
    return (f"#{match.group(1)}", "order_number") if match else (None, "none")


def order_ref_from_metadata(metadata: str | None) -> tuple[str | None, str]:
    """The Shopify order name found in Shippo's ``metadata`` ("Order #1001", "#1001", "1001")."""
    match = _METADATA.search(metadata or "")
    if not match:
        return None, "none"
    return f"#{match.group(1) or match.group(2)}", "metadata"


def shipping_label_from_shipstation(shipment: dict[str, Any], account_id: str, currency: str) -> dict[str, Any]:
    """One ShipStation shipment as a ``shipping_labels`` row."""
    order_ref, matched_by = order_ref_from_number(shipment.get("orderNumber"))
    carrier = shipment.get("carrierCode")
    void_date = shipment.get("voidDate")
    return {
        "provider": "shipstation",
        "account_id": account_id,
        "label_id": str(shipment["shipmentId"]),
        "order_ref": order_ref,
        "order_ref_match": matched_by,
        "carrier": SHIPSTATION_CARRIERS.get(carrier or "", carrier),
        "service": shipment.get("serviceCode"),
        "label_cost": money(shipment.get("shipmentCost")),
        "insurance_cost": money(shipment.get("insuranceCost")),
        "other_fees": money(0),
        "currency": currency,
        "voided": bool(shipment.get("voided")),
        "voided_at": utc_iso(pacific_to_utc(void_date)) if void_date else None,
        "created_at": utc_iso(pacific_to_utc(shipment["createDate"])),
        "ship_date": shipment.get("shipDate"),
        "tracking_number": shipment.get("trackingNumber"),
    }


def shipping_label_from_shippo(
    transaction: dict[str, Any], account_id: str, refund: dict[str, Any] | None
) -> dict[str, Any]:
    """One Shippo transaction as a ``shipping_labels`` row; ``refund`` is its successful refund, if any."""
    order_ref, matched_by = order_ref_from_metadata(transaction.get("metadata"))
    rate = transaction.get("rate") if isinstance(transaction.get("rate"), dict) else {}
    voided = transaction.get("status") == "REFUNDED" or refund is not None
    # The refund's creation is when the label was voided; without it, the last update.
    void_time = refund["object_created"] if refund else transaction.get("object_updated") if voided else None
    return {
        "provider": "shippo",
        "account_id": account_id,
        "label_id": transaction["object_id"],
        "order_ref": order_ref,
        "order_ref_match": matched_by,
        "carrier": rate.get("provider"),
        "service": rate.get("servicelevel_token"),
        "label_cost": money(rate.get("amount")),
        "insurance_cost": money(0),
        "other_fees": money(0),
        "currency": rate.get("currency"),
        "voided": voided,
        "voided_at": utc_iso(parse_iso(void_time)) if void_time else None,
        "created_at": utc_iso(parse_iso(transaction["object_created"])),
        "ship_date": None,
        "tracking_number": transaction.get("tracking_number"),
    }
