"""Shipping labels derived deterministically from the store's fulfilled orders.

Every label is a pure function of the seed and one order, so the set of labels never
changes when the clock moves: advancing only reveals labels (and voids) whose time has
come. ShipStation and Shippo both serve views of these labels, and ``truth`` is computed
from them directly, never from what was served.
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bloom_sandbox.store.model import Customer, Fulfillment, Order, Store

PACIFIC = ZoneInfo("America/Los_Angeles")
CENT = Decimal("0.01")

# Chances per fulfilled, non-test order (or per label where said).
NO_LABEL = 0.07  # shipped outside both tools (hand-written, local courier)
EXTRA_PACKAGE = 0.05  # per fulfillment: a second parcel, its own label
VOIDED = 0.06  # per label: voided later, and usually re-labelled
RELABEL = 0.7  # per voided label: a replacement label is bought
INSURED = 0.1  # per ShipStation label: insurance bought
UNMATCHED_REF = 0.03  # per label: the order reference does not name the order

SERVICE_PRICES = {  # rough base price per carrier, in the shop currency
    "USPS": (Decimal("3.90"), Decimal("14.50")),
    "UPS": (Decimal("7.80"), Decimal("28.00")),
    "FedEx": (Decimal("8.20"), Decimal("31.00")),
    "DHL Express": (Decimal("12.00"), Decimal("45.00")),
    "Canada Post": (Decimal("9.50"), Decimal("32.00")),
}


def slug(text: str) -> str:
    """``Priority Mail`` -> ``priority_mail``."""
    return "_".join(text.lower().replace("-", " ").split())


def service_token(carrier_slug: str, service: str) -> str:
    """A service code in the providers' style: ``usps_priority_mail``, ``dhl_express_worldwide``."""
    words, service_words = carrier_slug.split("_"), slug(service).split("_")
    overlap = next((n for n in range(min(len(words), len(service_words)), 0, -1) if words[-n:] == service_words[:n]), 0)
    return "_".join(words + service_words[overlap:])


@dataclass(frozen=True)
class Label:
    """One purchased shipping label, as the generator knows it."""

    provider: str  # "shipstation" or "shippo"
    label_id: str  # ShipStation shipmentId (digits) or Shippo object_id (hex)
    sequence: int  # 0, 1, ... within its order
    order: Order
    order_ref: str  # how the provider names the order: orderNumber or metadata
    matched: bool  # whether order_ref names the order (labels that do count per order)
    carrier: str  # "USPS", "UPS", ...
    service: str  # human service name, e.g. "Priority Mail"
    cost: Decimal  # label price in the shop currency
    insurance: Decimal
    currency: str
    created_at: datetime  # aware UTC
    voided_at: datetime | None  # aware UTC; None when never voided
    tracking_number: str
    line_item_ids: tuple[int, ...]

    @property
    def ship_date(self) -> date:
        """The ship date ShipStation shows: the Pacific calendar day of creation."""
        return self.created_at.astimezone(PACIFIC).date()

    def visible(self, now: datetime) -> bool:
        """Whether the label had been bought by ``now``."""
        return self.created_at <= now

    def voided_by(self, now: datetime) -> bool:
        """Whether the label had been voided by ``now``."""
        return self.voided_at is not None and self.voided_at <= now


def hex_id(*parts: object) -> str:
    return hashlib.md5(":".join(map(str, parts)).encode(), usedforsecurity=False).hexdigest()


def _money(rng: random.Random, low: Decimal, high: Decimal) -> Decimal:
    return (low + (high - low) * Decimal(str(rng.random()))).quantize(CENT)


def shipstation_share(seed: int) -> float:
    """The fraction of orders shipped through ShipStation for this seed (the rest: Shippo)."""
    return random.Random(f"{seed}:shipping-split").uniform(0.35, 0.65)  # noqa: S311 - synthetic data


def labels_for_order(seed: int, order: Order, currency: str) -> list[Label]:
    """All labels ever bought for one order (past and future alike)."""
    if order.test or not order.fulfillments:
        return []
    rng = random.Random(f"{seed}:labels:{order.id}")  # noqa: S311 - synthetic data
    if rng.random() < NO_LABEL:
        return []
    provider = "shipstation" if rng.random() < shipstation_share(seed) else "shippo"
    labels: list[Label] = []
    for fulfillment in sorted(order.fulfillments, key=lambda f: (f.created_at, f.id)):
        bought = fulfillment.created_at - timedelta(minutes=rng.randint(1, 90), milliseconds=rng.randint(0, 999))
        bought = max(bought, order.processed_at + timedelta(minutes=1))
        parcels = 2 if rng.random() < EXTRA_PACKAGE else 1
        for parcel in range(parcels):
            tracking = fulfillment.tracking_number if parcel == 0 else f"{fulfillment.tracking_number}{parcel}"
            labels.extend(
                _label_chain(
                    seed,
                    rng,
                    provider,
                    order,
                    fulfillment,
                    currency,
                    len(labels),
                    bought + timedelta(minutes=parcel),
                    tracking,
                )
            )
    return labels


def _label_chain(
    seed: int,
    rng: random.Random,
    provider: str,
    order: Order,
    fulfillment: Fulfillment,
    currency: str,
    first_sequence: int,
    bought: datetime,
    tracking: str,
) -> list[Label]:
    """One label, plus the replacement bought when it was voided."""
    chain: list[Label] = []
    while True:
        sequence = first_sequence + len(chain)
        voided_at = None
        if rng.random() < VOIDED and len(chain) < 2:
            voided_at = bought + timedelta(hours=rng.uniform(0.5, 24 * 12))
        chain.append(
            _label(
                seed,
                rng,
                provider,
                order,
                fulfillment,
                currency,
                sequence,
                bought,
                voided_at,
                tracking if not chain else f"{tracking}R{len(chain)}",
            )
        )
        if voided_at is None or rng.random() >= RELABEL:
            return chain
        bought = voided_at + timedelta(minutes=rng.randint(2, 30), milliseconds=rng.randint(0, 999))


def _label(
    seed: int,
    rng: random.Random,
    provider: str,
    order: Order,
    fulfillment: Fulfillment,
    currency: str,
    sequence: int,
    bought: datetime,
    voided_at: datetime | None,
    tracking: str,
) -> Label:
    low, high = SERVICE_PRICES.get(fulfillment.carrier, (Decimal("5.00"), Decimal("20.00")))
    cost = _money(rng, low, high)
    insurance = Decimal("0.00")
    if provider == "shipstation" and rng.random() < INSURED:
        insurance = _money(rng, Decimal("0.50"), Decimal("4.00"))
    matched = rng.random() >= UNMATCHED_REF
    if provider == "shipstation":
        label_id = str(10_000_000 + order.number * 16 + sequence)
        ref = (
            (str(order.number) if sequence == 0 else f"{order.number}-{sequence}")
            if matched
            else f"M{rng.randint(10000, 99999)}"
        )
    else:
        label_id = hex_id("shippo", seed, order.id, sequence)
        ref = (f"Order {order.name}" if rng.random() < 0.85 else order.name) if matched else ""
    return Label(
        provider=provider,
        label_id=label_id,
        sequence=sequence,
        order=order,
        order_ref=ref,
        matched=matched,
        carrier=fulfillment.carrier,
        service=fulfillment.service,
        cost=cost,
        insurance=insurance,
        currency=currency,
        created_at=bought,
        voided_at=voided_at,
        tracking_number=tracking,
        line_item_ids=tuple(fulfillment.line_item_ids),
    )


@dataclass(frozen=True)
class Recipient:
    """Who a ShipStation label ships to: the order's customer (or a guest named after the order)."""

    name: str
    email: str
    phone: str
    street: str
    city: str


#: The Shippo account's users; a label bought in Shippo's web app names its buyer in ``created_by``.
SHIPPO_STAFF = (
    ("Marisol", "Vandenberg", "marisol.vandenberg@bloom-sandbox.example"),
    ("Theodore", "Okonkwo", "theodore.okonkwo@bloom-sandbox.example"),
)
SHIPPO_OWNER = "shipping@sandbox.example"  # the Shippo account's user name (an email), in object_owner


def shippo_buyer(label: Label) -> tuple[str, str, str] | None:
    """The staff member who bought a Shippo label in the web app, or None (bought through the API)."""
    pick = int(label.label_id[-1], 16)
    return SHIPPO_STAFF[pick % len(SHIPPO_STAFF)] if pick < 8 else None


@dataclass(frozen=True)
class _Shelf:
    """One provider's labels bought by one clock time, indexed for the emulators' requests."""

    labels: list[Label]  # oldest first
    created: list[datetime]  # their creation times, for bisecting a creation-time bound
    voided: list[Label]  # those voided by then, latest void first (Shippo's refunds list)
    by_id: dict[str, Label]  # by label id
    by_refund_id: dict[str, Label]  # voided ones by their Shippo refund's id


class LabelBook:
    """The labels of a store, recomputed only when the store grows or its clock moves.

    Each request of an emulator reads the labels through one provider's shelf at the store's
    current time, built once per clock time (a 1M-order store holds about a million labels:
    walking them on every request made the emulators, not the rate limits, set the pace).
    """

    def __init__(self, seed: int, store: Store) -> None:
        self.seed = seed
        self.store = store
        self._key: tuple[Any, ...] | None = None
        self._labels: list[Label] = []
        self._shelves: dict[str, _Shelf] = {}
        self._lock = threading.Lock()
        self._customers: dict[int, Customer] = {}

    def all(self) -> list[Label]:
        """Every label of every order, past and future, sorted by creation time."""
        with self._lock:
            return self._current()

    def _current(self) -> list[Label]:
        # Orders gain fulfillments (and so labels) only when the clock moves (advance_store).
        key = (len(self.store.orders), self.store.now)
        if key != self._key:
            currency = self.store.shop.currency
            labels = [lb for order in self.store.orders for lb in labels_for_order(self.seed, order, currency)]
            labels.sort(key=lambda lb: (lb.created_at, lb.label_id))
            self._labels, self._key, self._shelves = labels, key, {}
        return self._labels

    def shelf(self, provider: str) -> _Shelf:
        """The provider's labels bought by the store's current time, with their indexes."""
        with self._lock:
            labels = self._current()
            if provider not in self._shelves:
                now = self.store.now
                mine = [lb for lb in labels if lb.provider == provider and lb.visible(now)]
                voided = sorted(
                    (lb for lb in mine if lb.voided_by(now)), key=lambda lb: (lb.voided_at, lb.label_id), reverse=True
                )
                self._shelves[provider] = _Shelf(
                    labels=mine,
                    created=[lb.created_at for lb in mine],
                    voided=voided,
                    by_id={lb.label_id: lb for lb in mine},
                    by_refund_id={hex_id("refund", lb.label_id): lb for lb in voided},
                )
            return self._shelves[provider]

    def visible(self, provider: str) -> list[Label]:
        """The provider's labels bought by the store's current time, oldest first (do not change it)."""
        return self.shelf(provider).labels

    def recipient(self, order: Order) -> Recipient:
        """The person and address a label of ``order`` ships to."""
        if len(self._customers) != len(self.store.customers):  # customers are only ever added
            self._customers = {c.id: c for c in self.store.customers}
        customer = self._customers.get(order.customer_id) if order.customer_id is not None else None
        street = f"{100 + order.number % 9000} {('Linden', 'Harbor', 'Quarry', 'Maple')[order.number % 4]} Street"
        if customer is None:
            return Recipient(f"Guest Buyer {order.number}", order.email or "", "", street, "Springfield")
        return Recipient(
            f"{customer.first_name} {customer.last_name}",
            order.email or customer.email,
            customer.phone or "",
            street,
            customer.city,
        )

    def personal(self, provider: str) -> dict[str, list[str]]:
        """The personal values the provider's visible labels carry: emails and full names."""
        emails: set[str] = set()
        names: set[str] = set()
        for label in self.visible(provider):
            if provider == "shipstation":
                person = self.recipient(label.order)
                emails.add(person.email)
                names.add(person.name)
            else:
                emails.add(SHIPPO_OWNER)
                if buyer := shippo_buyer(label):
                    emails.add(buyer[2])
                    names.update(buyer[:2])
        return {"emails": sorted(e for e in emails if e), "names": sorted(names)}

    def truth(self, provider: str) -> dict[str, Any]:
        """Label counts and non-voided costs per order (``label_count_by_order`` counts the
        non-voided labels), and of unmatched labels per shop-local day."""
        now = self.store.now
        labels = self.visible(provider)
        cost_by_order: dict[str, Decimal] = defaultdict(Decimal)
        count_by_order: dict[str, int] = defaultdict(int)
        unmatched_by_day: dict[str, Decimal] = defaultdict(Decimal)
        zone = ZoneInfo(self.store.shop.iana_timezone)
        total = unmatched_cost = Decimal("0")
        voided = unmatched = 0
        for label in labels:
            cost = Decimal("0") if label.voided_by(now) else label.cost + label.insurance
            voided += label.voided_by(now)
            total += cost
            if label.matched:
                cost_by_order[label.order.name] += cost
                count_by_order[label.order.name] += not label.voided_by(now)
            else:
                unmatched += 1
                unmatched_cost += cost
                if cost:
                    unmatched_by_day[label.created_at.astimezone(zone).date().isoformat()] += cost
        return {
            "currency": self.store.shop.currency,
            "labels": len(labels),
            "voided": voided,
            "unmatched_labels": unmatched,
            "unmatched_label_cost": str(unmatched_cost),
            "unmatched_label_cost_by_day": {day: str(cost) for day, cost in sorted(unmatched_by_day.items())},
            "label_cost_total": str(total),
            "label_cost_by_order": {name: str(cost) for name, cost in sorted(cost_by_order.items())},
            "label_count_by_order": dict(sorted(count_by_order.items())),
            "personal": self.personal(provider),
        }
