"""The synthetic store's data, as the generator keeps it (not as any API shows it).

Every other part of the sandbox reads the store through these classes: the Shopify
emulator renders them into Shopify's shapes, the ad and shipping emulators derive spend
and labels from them, and ``truth`` computes the report figures from them. Amounts are
``Decimal`` in the shop currency unless a name says ``presentment``; times are aware UTC
``datetime``. Fields may be added; renaming one breaks the other emulators.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(slots=True)
class Shop:
    name: str  # display name
    handle: str  # the "<handle>" of <handle>.myshopify.com
    currency: str  # ISO 4217, e.g. "USD"
    iana_timezone: str  # e.g. "America/New_York" (never UTC)
    plan: str  # standard / advanced / plus / enterprise
    payments: bool = True  # Shopify Payments enabled (else cards go through a third-party gateway)


@dataclass(slots=True)
class Variant:
    id: int
    product_id: int
    inventory_item_id: int
    title: str
    sku: str
    price: Decimal
    compare_at_price: Decimal | None
    unit_cost: Decimal | None  # inventoryItem.unitCost
    weight_grams: int
    created_at: datetime
    updated_at: datetime
    position: int = 1  # ProductVariant.position: 1..n within its product, as the merchant ordered them
    # Cost changes made as the store lived after it was generated: (when, the cost before it),
    # oldest first. A change inside the generated history is not kept: no sync could have seen
    # the cost before it, so the reports cost those orders at the earliest cost known.
    cost_changes: list[tuple[datetime, Decimal | None]] = field(default_factory=list)

    def cost_at(self, moment: datetime) -> Decimal | None:
        """The unit cost valid at ``moment``: set by the last change at or before it, else the earliest known."""
        cost = self.unit_cost
        for when, before in reversed(self.cost_changes):
            if moment >= when:
                break
            cost = before
        return cost


@dataclass(slots=True)
class Product:
    id: int
    title: str
    vendor: str
    product_type: str
    status: str  # ACTIVE / ARCHIVED / DRAFT
    is_gift_card: bool
    created_at: datetime
    updated_at: datetime
    variants: list[Variant] = field(default_factory=list)


@dataclass(slots=True)
class Customer:
    id: int
    email: str
    first_name: str
    last_name: str
    phone: str | None
    country_code: str
    city: str
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True)
class LineItem:
    id: int
    variant_id: int
    product_id: int
    sku: str
    title: str
    quantity: int
    unit_price: Decimal  # original unit price
    discount: Decimal  # total discount allocated to this line (all units)
    tax: Decimal
    is_gift_card: bool
    requires_shipping: bool


@dataclass(slots=True)
class ShippingLine:
    id: int
    title: str
    code: str
    price: Decimal  # original price
    discount: Decimal
    tax: Decimal


@dataclass(slots=True)
class RefundLineItem:
    id: int
    line_item_id: int
    quantity: int
    subtotal: Decimal  # refunded amount for the goods, after their discount, before tax
    tax: Decimal
    restock_type: str  # RETURN / CANCEL / NO_RESTOCK


@dataclass(slots=True)
class Refund:
    id: int
    order_id: int
    created_at: datetime
    processed_at: datetime
    note: str | None
    line_items: list[RefundLineItem] = field(default_factory=list)
    shipping_subtotal: Decimal = Decimal("0")
    shipping_tax: Decimal = Decimal("0")

    @property
    def total(self) -> Decimal:
        """Money given back: goods, their tax and refunded shipping with its tax."""
        goods = sum((li.subtotal + li.tax for li in self.line_items), Decimal("0"))
        return goods + self.shipping_subtotal + self.shipping_tax


@dataclass(slots=True)
class Transaction:
    id: int
    order_id: int
    kind: str  # SALE / AUTHORIZATION / CAPTURE / REFUND / VOID
    status: str  # SUCCESS / FAILURE / PENDING / ERROR
    gateway: str  # "shopify_payments" (or "stripe" without it), "paypal", "gift_card", "manual"
    amount: Decimal  # shop currency
    amount_presentment: Decimal
    fee: Decimal  # gateway fee (Shopify Payments fees also appear in balance transactions)
    processed_at: datetime
    test: bool
    parent_id: int | None = None


@dataclass(slots=True)
class Fulfillment:
    id: int
    order_id: int
    created_at: datetime
    carrier: str  # e.g. "USPS", "UPS"
    service: str  # e.g. "Priority Mail"
    tracking_number: str
    line_item_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Order:
    id: int
    number: int  # 1001, 1002, ...
    name: str  # "#1001"
    customer_id: int | None
    email: str | None
    created_at: datetime
    processed_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None
    cancel_reason: str | None
    closed_at: datetime | None
    test: bool
    currency: str  # shop currency
    presentment_currency: str
    presentment_rate: Decimal  # presentment amount = shop amount * rate
    source_name: str  # "web", "pos", "shopify_draft_order", ...
    tags: list[str]
    shipping_country: str
    line_items: list[LineItem] = field(default_factory=list)
    shipping_lines: list[ShippingLine] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    transactions: list[Transaction] = field(default_factory=list)
    fulfillments: list[Fulfillment] = field(default_factory=list)

    @property
    def subtotal(self) -> Decimal:
        """Line items after discounts, before shipping and tax."""
        return sum((li.unit_price * li.quantity - li.discount for li in self.line_items), Decimal("0"))

    @property
    def total_discounts(self) -> Decimal:
        return sum((li.discount for li in self.line_items), Decimal("0")) + sum(
            (sl.discount for sl in self.shipping_lines), Decimal("0")
        )

    @property
    def total_shipping(self) -> Decimal:
        return sum((sl.price - sl.discount for sl in self.shipping_lines), Decimal("0"))

    @property
    def total_tax(self) -> Decimal:
        return sum((li.tax for li in self.line_items), Decimal("0")) + sum(
            (sl.tax for sl in self.shipping_lines), Decimal("0")
        )

    @property
    def total_price(self) -> Decimal:
        return self.subtotal + self.total_shipping + self.total_tax

    @property
    def total_refunded(self) -> Decimal:
        return sum((r.total for r in self.refunds), Decimal("0"))


@dataclass(slots=True)
class Payout:
    id: int
    issued_at: datetime
    status: str  # SCHEDULED / IN_TRANSIT / PAID / FAILED / CANCELED
    gross: Decimal
    fee: Decimal
    net: Decimal  # gross - fee; equals the sum of its balance transactions' net


@dataclass(slots=True)
class BalanceTransaction:
    id: int
    transaction_date: datetime
    type: str  # CHARGE / REFUND / ADJUSTMENT ...
    amount: Decimal  # signed: refunds negative
    fee: Decimal
    net: Decimal  # amount - fee
    payout_id: int | None  # None until paid out
    source_order_id: int | None
    source_order_transaction_id: int | None
    test: bool


@dataclass(slots=True)
class Store:
    shop: Shop
    history_start: datetime  # first day of generated history (UTC midnight)
    now: datetime  # the store's clock; /_sandbox/advance moves it
    generated_at: datetime  # the clock when the history was generated; fixed
    products: list[Product] = field(default_factory=list)
    customers: list[Customer] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    payouts: list[Payout] = field(default_factory=list)
    balance_transactions: list[BalanceTransaction] = field(default_factory=list)
    # Last id handed out per object type ("order", "line_item", ...): advance continues from here.
    last_ids: dict[str, int] = field(default_factory=dict)
    # Next payout date the payout schedule will consider (every third day at 12:00 UTC).
    next_payout_at: datetime | None = None

    def next_id(self, kind: str) -> int:
        """A new id for an object of ``kind`` (ids count up per type, from 1)."""
        value = self.last_ids.get(kind, 0) + 1
        self.last_ids[kind] = value
        return value
