"""Generate a synthetic store deterministically from a seed, and move its clock forward.

``generate_store`` builds ``months`` of history ending at ``now``; ``advance_store`` adds
``days`` more: new orders, customers and products, and updates to recent orders (fulfilled,
refunded, cancelled, edited). The same (seed, orders, months, now, plan) always gives the
same store; the same store advanced by the same days with the same seed gives the same result.
"""

from __future__ import annotations

import bisect
import random
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import accumulate
from typing import Any

from bloom_sandbox.store.model import (
    BalanceTransaction,
    Customer,
    Fulfillment,
    LineItem,
    Order,
    Payout,
    Product,
    Refund,
    RefundLineItem,
    ShippingLine,
    Shop,
    Store,
    Transaction,
    Variant,
)
from bloom_sandbox.store.vocabulary import (
    CANCEL_REASONS,
    CARRIERS,
    COUNTRIES,
    COUNTRY_CODES,
    COUNTRY_WEIGHTS,
    FIRST_NAMES,
    GATEWAY_FEES,
    INTERNATIONAL_CARRIERS,
    LAST_NAMES,
    PRODUCT_TYPES,
    PRODUCT_WORDS,
    SOURCE_NAMES,
    SOURCE_WEIGHTS,
    TAGS,
    VARIANT_TITLES,
    VENDORS,
)

PLANS = ("standard", "advanced", "plus", "enterprise")
THIRD_PARTY_GATEWAY = "stripe"  # card gateway of a shop without Shopify Payments (Shopify syncs no fees)
CENT = Decimal("0.01")
ZERO = Decimal("0")
DAY = timedelta(days=1)


def generate_store(
    seed: int,
    orders: int,
    months: int = 24,
    now: datetime | None = None,
    plan: str = "standard",
    payments: bool = True,
) -> Store:
    """Generate a store with about ``orders`` orders over ``months`` months ending at ``now``.

    Args:
        seed: Seed of every random choice.
        orders: Number of orders in the history (test orders included).
        months: Length of the history in months.
        now: The store's clock (aware or naive UTC); defaults to today's UTC midnight.
        plan: Shopify plan: standard, advanced, plus or enterprise.
        payments: Whether the shop uses Shopify Payments. Without it, card payments go through
            a third-party gateway (``THIRD_PARTY_GATEWAY``, no synced fees) and there are no
            balance transactions or payouts; every random draw is the same either way.

    Returns:
        The store, with ``now`` and ``history_start`` set.
    """
    if plan not in PLANS:
        raise ValueError(f"plan must be one of {', '.join(PLANS)}, not {plan!r}")
    if orders < 0 or months < 1:
        raise ValueError("orders must be >= 0 and months >= 1")
    if now is None:
        now = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    else:
        now = now.astimezone(UTC)
    start = _months_before(now, months).replace(hour=0, minute=0, second=0, microsecond=0)
    shop = Shop(
        name="Bloom Botanicals",
        handle="bloom-botanicals",
        currency="USD",
        iana_timezone="America/New_York",
        plan=plan,
        payments=payments,
    )
    store = Store(shop=shop, history_start=start, now=now, generated_at=now)
    gen = _Generator(store, random.Random(seed))  # noqa: S311 (deterministic synthetic data)
    gen.seed_catalog(max(12, min(300, orders // 400 + 10)))
    span = (now - start).total_seconds()
    rng = gen.rng
    times = sorted(_order_time(rng, start, span) for _ in range(orders))
    for when in times:
        gen.make_order(when, now)
    gen.finish(now)
    return store


def advance_store(store: Store, days: int, seed: int) -> None:
    """Move ``store.now`` forward by ``days``, adding new objects and updating recent orders.

    Args:
        store: The store to change in place.
        days: Whole days to move forward (>= 1).
        seed: The world's seed (mixed with the store's clock, so each step differs).
    """
    if days < 1:
        raise ValueError("days must be >= 1")
    old_now = store.now
    new_now = old_now + days * DAY
    gen = _Generator(store, random.Random(f"{seed}:{old_now.isoformat()}:{days}"))  # noqa: S311
    rng = gen.rng
    gen.load_state()
    store.now = new_now
    # Updates to recent orders, at times inside the new window.
    recent_cut = old_now - 45 * DAY
    for order in reversed(store.orders):
        if order.processed_at < recent_cut:
            break
        if order.test:
            continue
        when = old_now + timedelta(seconds=rng.uniform(60, days * 86400))
        if order.cancelled_at is None and not order.fulfillments and not order.refunds and _requires_shipping(order):
            if rng.random() < 0.08:
                gen.cancel(order, when)
            elif rng.random() < 0.95:
                gen.fulfill(order, when)
        elif order.cancelled_at is None and not order.refunds and rng.random() < 0.015 * days:
            gen.refund(order, when, full=rng.random() < 0.4)
        elif rng.random() < 0.01 * days:
            gen.edit(order, when)
    # New catalog objects and orders.
    for _ in range(days):
        if rng.random() < 0.25:
            gen.make_product(old_now + timedelta(seconds=rng.uniform(0, days * 86400)))
    if store.products and rng.random() < 0.5:
        reprice_product(store, rng.choice(store.products), old_now + timedelta(seconds=rng.uniform(0, days * 86400)))
    recent = sum(1 for o in store.orders[-5000:] if o.processed_at >= old_now - 30 * DAY)
    per_day = max(1.0, recent / 30)
    count = round(per_day * days * rng.uniform(0.85, 1.15))
    times = sorted(_order_time(rng, old_now, days * 86400, growth=False) for _ in range(count))
    for when in times:
        gen.make_order(when, new_now)
    gen.finish(new_now)


def reprice_product(store: Store, product: Product, when: datetime, *, kept: bool = True) -> None:
    """Raise the unit costs of ``product``'s variants by 5 % at ``when`` (a merchant's edit).

    ``when`` is cut to whole seconds (Shopify's timestamps); a change after the store's clock
    or on a gift card is ignored. ``kept``: record it in each variant's ``cost_changes``.
    """
    when = when.replace(microsecond=0)
    if when > store.now or product.is_gift_card:
        return
    for variant in product.variants:
        if variant.unit_cost is not None:
            if kept:
                variant.cost_changes.append((when, variant.unit_cost))
            variant.unit_cost = _q(variant.unit_cost * Decimal("1.05"))
        variant.updated_at = when
    product.updated_at = when


# Relative order volume by month (holiday peak) and weekday (Monday = 0), for rejection sampling.
MONTH_WEIGHT = (0.8, 0.75, 0.85, 0.9, 1.1, 0.9, 0.85, 0.85, 0.9, 0.95, 1.3, 1.5)
WEEKDAY_WEIGHT = (0.95, 0.9, 0.9, 0.95, 1.0, 0.85, 0.8)
PEAK_WEIGHT = max(MONTH_WEIGHT) * max(WEEKDAY_WEIGHT)


COUNTRY_CUM = tuple(accumulate(COUNTRY_WEIGHTS))
SOURCE_CUM = tuple(accumulate(SOURCE_WEIGHTS))
LINES_CUM = tuple(accumulate((45, 28, 15, 8, 4)))  # lines per order: 1 to 5
QUANTITY_CUM = tuple(accumulate((75, 18, 7)))  # units per line: 1 to 3


def _pick(rng: random.Random, population: tuple[Any, ...], cumulative: tuple[int, ...]) -> Any:
    """A weighted choice (like ``rng.choices(population, cum_weights=cumulative)[0]``, without its overhead)."""
    return population[bisect.bisect(cumulative, rng.random() * cumulative[-1])]


def _order_time(rng: random.Random, start: datetime, span: float, growth: bool = True) -> datetime:
    """A moment in ``[start, start + span)``: more orders later (growth), at the holidays, on weekdays."""
    while True:
        u = rng.random()
        when = start + timedelta(seconds=span * (u ** (1 / 1.4) if growth else u))
        if rng.random() * PEAK_WEIGHT <= MONTH_WEIGHT[when.month - 1] * WEEKDAY_WEIGHT[when.weekday()]:
            return when


def _months_before(moment: datetime, months: int) -> datetime:
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, 28)
    return moment.replace(year=year, month=month + 1, day=day)


def _money(value: float) -> Decimal:
    return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


def _q(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def _order_variants(product: Product) -> None:
    """Give the variants their positions 1..n: creation order, or for about 1 product in 3 with
    several variants an order the merchant chose (drawn from the product's id, so the store's
    other draws do not change)."""
    positions = list(range(1, len(product.variants) + 1))
    rng = random.Random(product.id)  # noqa: S311 (deterministic synthetic data, not security)
    if len(positions) > 1 and rng.random() < 0.35:
        while positions == sorted(positions):
            rng.shuffle(positions)
    for variant, position in zip(product.variants, positions, strict=True):
        variant.position = position


def _requires_shipping(order: Order) -> bool:
    return any(li.requires_shipping for li in order.line_items)


def _later(base: datetime, low_hours: float, high_hours: float, rng: random.Random) -> datetime:
    return base + timedelta(seconds=rng.uniform(low_hours, high_hours) * 3600)


class _Generator:
    """The random choices behind one generation or advance step."""

    def __init__(self, store: Store, rng: random.Random) -> None:
        self.store = store
        self.rng = rng
        self.catalog: list[Product] = []  # sellable products sorted by created_at
        self.catalog_times: list[datetime] = []
        self.gift_card: Product | None = None
        self.customers: list[Customer] = []
        self.rates = {code: Decimal(c[3]) for code, c in COUNTRIES.items()}
        self.taxes = {code: tuple(Decimal(t) for t in c[4]) for code, c in COUNTRIES.items()}

    # -- catalog and customers -------------------------------------------------------------

    def seed_catalog(self, count: int) -> None:
        rng, start = self.rng, self.store.history_start
        gift = self.make_product(start - 400 * DAY, gift_card=True)
        self.gift_card = gift
        for i in range(count):
            if i < count * 0.7:
                created = start - timedelta(days=rng.uniform(1, 365))
            else:
                created = start + timedelta(seconds=rng.uniform(0, (self.store.now - start).total_seconds() * 0.8))
            product = self.make_product(created)
            if rng.random() < 0.3:
                when = product.created_at + timedelta(days=rng.uniform(1, 300))
                reprice_product(self.store, product, when, kept=False)

    def load_state(self) -> None:
        """Rebuild the catalog and customer pools from an existing store (for advance)."""
        for product in sorted(self.store.products, key=lambda p: p.created_at):
            self._index_product(product)
        self.customers = list(self.store.customers)

    def make_product(self, created: datetime, gift_card: bool = False) -> Product:
        rng, store = self.rng, self.store
        pid = store.next_id("product")
        if gift_card:
            title, ptype, vendor, titles = "Gift Card", "Gift Cards", "Bloom Botanicals", ("$25", "$50", "$100")
            prices = [Decimal(t[1:]) + ZERO * CENT for t in titles]
        else:
            title = f"{rng.choice(PRODUCT_WORDS[0])} {rng.choice(PRODUCT_WORDS[1])}"
            ptype, vendor = rng.choice(PRODUCT_TYPES), rng.choice(VENDORS)
            titles = rng.choice(VARIANT_TITLES)
            base = rng.choice((12, 18, 24, 29, 35, 42, 49, 58, 65, 79, 95, 120))
            prices = [_money(base * (1 + 0.35 * i) - 0.01) for i in range(len(titles))]
        product = Product(
            id=pid,
            title=title,
            vendor=vendor,
            product_type=ptype,
            status="ACTIVE",
            is_gift_card=gift_card,
            created_at=created,
            updated_at=created,
        )
        for vtitle, price in zip(titles, prices, strict=True):
            vid = store.next_id("variant")
            compare = None if gift_card or rng.random() < 0.7 else _q(price * Decimal("1.25"))
            if gift_card:
                cost = None
            elif rng.random() < 0.04:
                cost = None  # merchant never entered a cost
            else:
                cost = _q(price * Decimal(str(round(rng.uniform(0.28, 0.48), 2))))
            sku = f"GC-{int(price)}" if gift_card else f"BLM-{pid:04d}-{vtitle[:3].upper()}"
            product.variants.append(
                Variant(
                    id=vid,
                    product_id=pid,
                    inventory_item_id=store.next_id("inventory_item"),
                    title=vtitle,
                    sku=sku,
                    price=price,
                    compare_at_price=compare,
                    unit_cost=cost,
                    weight_grams=rng.choice((200, 450, 900)),
                    created_at=created,
                    updated_at=created,
                )
            )
        _order_variants(product)
        store.products.append(product)
        if not gift_card:
            self._index_product(product)
        else:
            self.gift_card = product
        return product

    def _index_product(self, product: Product) -> None:
        if product.is_gift_card:
            self.gift_card = product
            return
        if product.status != "ACTIVE":
            return
        pos = bisect.bisect_right(self.catalog_times, product.created_at)
        self.catalog_times.insert(pos, product.created_at)
        self.catalog.insert(pos, product)

    def customer_for(self, when: datetime) -> Customer | None:
        rng = self.rng
        roll = rng.random()
        if roll < 0.03:
            return None  # guest checkout
        if self.customers and roll < 0.35:
            customer = self.customers[int(len(self.customers) * rng.random() ** 0.7)]
            if customer.created_at <= when:
                return customer
        store = self.store
        cid = store.next_id("customer")
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        country = _pick(rng, COUNTRY_CODES, COUNTRY_CUM)
        created = when - timedelta(seconds=rng.uniform(0, 3 * 86400) if rng.random() < 0.2 else 60)
        customer = Customer(
            id=cid,
            email=f"{first}.{last}{cid}@example.com".lower(),
            first_name=first,
            last_name=last,
            phone=f"+1555{cid % 10_000_000:07d}" if rng.random() < 0.4 else None,
            country_code=country,
            city=rng.choice(COUNTRIES[country][1]),
            created_at=created,
            updated_at=created,
        )
        store.customers.append(customer)
        self.customers.append(customer)
        return customer

    # -- orders ----------------------------------------------------------------------------

    def make_order(self, when: datetime, now: datetime) -> Order:
        """A new order placed at ``when``, with its life (payments, fulfilment, refunds) up to ``now``."""
        rng, store = self.rng, self.store
        customer = self.customer_for(when)
        country = customer.country_code if customer else _pick(rng, COUNTRY_CODES, COUNTRY_CUM)
        _, _, pcur, _, _, ship_taxed = COUNTRIES[country]
        rate = self.rates[country]
        if rate != 1:
            rate = _q(rate * Decimal(str(round(rng.uniform(0.97, 1.03), 3)))) if pcur != "USD" else rate
        tax_rate = rng.choice(self.taxes[country])
        oid = store.next_id("order")
        number = 1000 + oid
        processed = when if rng.random() > 0.03 else when - timedelta(seconds=rng.uniform(60, 6 * 3600))
        test = rng.random() < 0.01
        source = _pick(rng, SOURCE_NAMES, SOURCE_CUM)
        order = Order(
            id=oid,
            number=number,
            name=f"#{number}",
            customer_id=customer.id if customer else None,
            email=customer.email if customer else f"guest{oid}@example.com",
            created_at=when,
            processed_at=processed,
            updated_at=when,
            cancelled_at=None,
            cancel_reason=None,
            closed_at=None,
            test=test,
            currency="USD",
            presentment_currency=pcur,
            presentment_rate=rate,
            source_name=source,
            tags=[rng.choice(TAGS)] if rng.random() < 0.15 else [],
            shipping_country=country,
        )
        self._add_lines(order, tax_rate, ship_taxed)
        self._add_payment(order)
        if customer is not None and when > customer.updated_at:
            customer.updated_at = when
        store.orders.append(order)
        # Life after the order, as far as the clock allows.
        if not test and rng.random() < 0.02:
            self.cancel(order, _later(when, 0.5, 40, rng), now)
        else:
            if _requires_shipping(order) and rng.random() < 0.98:
                self.fulfill(order, _later(when, 4, 80, rng), now)
            if not test and rng.random() < 0.09:
                self.refund(order, _later(when, 48, 40 * 24, rng), full=rng.random() < 0.35, now=now)
            if rng.random() < 0.05:
                self.edit(order, _later(when, 24, 60 * 24, rng), now)
        return order

    def _add_lines(self, order: Order, tax_rate: Decimal, ship_taxed: bool) -> None:
        rng, store = self.rng, self.store
        available = bisect.bisect_right(self.catalog_times, order.created_at) or len(self.catalog)
        n_lines = _pick(rng, (1, 2, 3, 4, 5), LINES_CUM)
        chosen: list[tuple[Product, Variant]] = []
        for _ in range(n_lines):
            product = self.catalog[int(available * rng.random() ** 1.3) if available else 0]
            variant = rng.choice(product.variants)
            if all(v is not variant for _, v in chosen):
                chosen.append((product, variant))
        if self.gift_card is not None and rng.random() < 0.03:
            chosen.append((self.gift_card, rng.choice(self.gift_card.variants)))
        discount_rate = rng.choice((Decimal("0.10"), Decimal("0.15"), Decimal("0.20"))) if rng.random() < 0.25 else ZERO
        for product, variant in chosen:
            qty = _pick(rng, (1, 2, 3), QUANTITY_CUM)
            gross = variant.price * qty
            if product.is_gift_card:
                discount = tax = ZERO
            else:
                discount = _q(gross * discount_rate) if discount_rate else ZERO
                tax = _q((gross - discount) * tax_rate) if tax_rate else ZERO
            order.line_items.append(
                LineItem(
                    id=store.next_id("line_item"),
                    variant_id=variant.id,
                    product_id=product.id,
                    sku=variant.sku,
                    title=product.title,
                    quantity=qty,
                    unit_price=variant.price,
                    discount=discount,
                    tax=tax,
                    is_gift_card=product.is_gift_card,
                    requires_shipping=not product.is_gift_card,
                )
            )
        if any(li.requires_shipping for li in order.line_items):
            express = rng.random() < 0.15
            price = Decimal("14.99") if express else Decimal("5.99")
            goods = sum((li.unit_price * li.quantity for li in order.line_items if not li.is_gift_card), ZERO)
            discount = price if (not express and goods >= 75 and rng.random() < 0.6) else ZERO
            tax = _q((price - discount) * tax_rate) if ship_taxed and tax_rate else ZERO
            order.shipping_lines.append(
                ShippingLine(
                    id=store.next_id("shipping_line"),
                    title="Express" if express else "Standard",
                    code="EXPRESS" if express else "STANDARD",
                    price=price,
                    discount=discount,
                    tax=tax,
                )
            )

    def _add_payment(self, order: Order) -> None:
        rng = self.rng
        total = order.total_price
        when = order.processed_at
        if order.test:
            self._transaction(order, "SALE", "SUCCESS", "bogus", total, when)
            return
        paid_by_card = total
        if total > 30 and rng.random() < 0.03:
            gift_part = min(Decimal("25.00"), _q(total / 2))
            self._transaction(order, "SALE", "SUCCESS", "gift_card", gift_part, when)
            paid_by_card = total - gift_part
        roll = rng.random()
        card = "shopify_payments" if self.store.shop.payments else THIRD_PARTY_GATEWAY
        gateway = card if roll < 0.8 else "paypal" if roll < 0.93 else "manual"
        if rng.random() < 0.02:
            self._transaction(order, "SALE", "FAILURE", gateway, paid_by_card, when - timedelta(seconds=90))
        if gateway == card and rng.random() < 0.1:
            auth = self._transaction(order, "AUTHORIZATION", "SUCCESS", gateway, paid_by_card, when)
            captured = when + timedelta(seconds=rng.uniform(600, 6 * 3600))
            self._transaction(order, "CAPTURE", "SUCCESS", gateway, paid_by_card, captured, parent=auth)
        else:
            self._transaction(order, "SALE", "SUCCESS", gateway, paid_by_card, when)

    def _transaction(
        self,
        order: Order,
        kind: str,
        status: str,
        gateway: str,
        amount: Decimal,
        when: datetime,
        parent: Transaction | None = None,
    ) -> Transaction:
        fee = ZERO
        terms = GATEWAY_FEES.get(gateway)
        if terms is not None and status == "SUCCESS" and kind in ("SALE", "CAPTURE"):
            rate, fixed = terms
            fee = _q(amount * rate + fixed)
        txn = Transaction(
            id=self.store.next_id("transaction"),
            order_id=order.id,
            kind=kind,
            status=status,
            gateway=gateway,
            amount=amount,
            amount_presentment=_q(amount * order.presentment_rate),
            fee=fee,
            processed_at=when,
            test=order.test,
            parent_id=parent.id if parent else None,
        )
        order.transactions.append(txn)
        if gateway == "shopify_payments" and status == "SUCCESS" and not order.test:
            if kind in ("SALE", "CAPTURE"):
                self._balance(order, txn, "CHARGE", amount, fee)
            elif kind == "REFUND":
                self._balance(order, txn, "REFUND", -amount, ZERO)
        return txn

    def _balance(self, order: Order, txn: Transaction, kind: str, amount: Decimal, fee: Decimal) -> None:
        self.store.balance_transactions.append(
            BalanceTransaction(
                id=self.store.next_id("balance_transaction"),
                transaction_date=txn.processed_at,
                type=kind,
                amount=amount,
                fee=fee,
                net=amount - fee,
                payout_id=None,
                source_order_id=order.id,
                source_order_transaction_id=txn.id,
                test=order.test,
            )
        )

    # -- order life ------------------------------------------------------------------------

    def _touch(self, order: Order, when: datetime) -> None:
        if when > order.updated_at:
            order.updated_at = when

    def fulfill(self, order: Order, when: datetime, now: datetime | None = None) -> None:
        if when > (now or self.store.now) or order.cancelled_at is not None:
            return
        rng = self.rng
        carrier, service = rng.choice(CARRIERS.get(order.shipping_country, INTERNATIONAL_CARRIERS))
        digits = str(rng.randrange(10**22)).zfill(22)
        tracking = {
            "USPS": "9400" + digits[:18],
            "UPS": "1Z" + "".join(rng.choices("0123456789ABCDEFGHJKLMNPRSTUVWXYZ", k=16)),
            "FedEx": digits[:12],
            "Canada Post": digits[:16],
        }.get(carrier, digits[:10])
        order.fulfillments.append(
            Fulfillment(
                id=self.store.next_id("fulfillment"),
                order_id=order.id,
                created_at=when,
                carrier=carrier,
                service=service,
                tracking_number=tracking,
                line_item_ids=[li.id for li in order.line_items if li.requires_shipping],
            )
        )
        if not order.refunds:
            order.closed_at = when
        self._touch(order, when)

    def refund(self, order: Order, when: datetime, full: bool, now: datetime | None = None) -> None:
        """A refund processed at ``when``: everything (full) or part of one line (partial)."""
        if when > (now or self.store.now):
            return
        rng = self.rng
        goods = [li for li in order.line_items if not li.is_gift_card]
        if not goods:
            return
        if full:
            lines = [(li, li.quantity) for li in goods]
        else:
            li = rng.choice(goods)
            lines = [(li, rng.randint(1, li.quantity))]
        restock = "RETURN" if rng.random() < 0.7 else "NO_RESTOCK"
        self._record_refund(order, when, lines, restock, refund_shipping=full and rng.random() < 0.5, note=None)

    def cancel(self, order: Order, when: datetime, now: datetime | None = None) -> None:
        """Cancel ``order`` at ``when`` and refund everything on that moment."""
        if when > (now or self.store.now):
            return
        order.cancelled_at = when
        order.cancel_reason = self.rng.choice(CANCEL_REASONS)
        order.closed_at = when
        lines = [(li, li.quantity) for li in order.line_items]
        self._record_refund(order, when, lines, "CANCEL", refund_shipping=True, note="Order canceled")

    def edit(self, order: Order, when: datetime, now: datetime | None = None) -> None:
        """A merchant edit that changes nothing in the figures (tags) but bumps ``updated_at``."""
        if when > (now or self.store.now):
            return
        tag = self.rng.choice(TAGS)
        if tag not in order.tags:
            order.tags.append(tag)
        self._touch(order, when)

    def _record_refund(
        self,
        order: Order,
        when: datetime,
        lines: list[tuple[LineItem, int]],
        restock: str,
        refund_shipping: bool,
        note: str | None,
    ) -> None:
        store = self.store
        refund = Refund(id=store.next_id("refund"), order_id=order.id, created_at=when, processed_at=when, note=note)
        for li, qty in lines:
            if qty == li.quantity:
                subtotal, tax = li.unit_price * qty - li.discount, li.tax
            else:
                subtotal = _q((li.unit_price * li.quantity - li.discount) * qty / li.quantity)
                tax = _q(li.tax * qty / li.quantity)
            refund.line_items.append(
                RefundLineItem(
                    id=store.next_id("refund_line_item"),
                    line_item_id=li.id,
                    quantity=qty,
                    subtotal=subtotal,
                    tax=tax,
                    restock_type=restock,
                )
            )
        if refund_shipping and order.shipping_lines:
            refund.shipping_subtotal = sum((sl.price - sl.discount for sl in order.shipping_lines), ZERO)
            refund.shipping_tax = sum((sl.tax for sl in order.shipping_lines), ZERO)
        order.refunds.append(refund)
        amount = refund.total
        charges = [t for t in order.transactions if t.status == "SUCCESS" and t.kind in ("SALE", "CAPTURE")]
        charges.sort(key=lambda t: t.gateway == "gift_card")  # card first, gift card last
        for charge in charges:
            if amount <= 0:
                break
            part = min(amount, charge.amount)
            gateway = charge.gateway
            self._transaction(order, "REFUND", "SUCCESS", gateway, part, when, parent=charge)
            amount -= part
        self._touch(order, when)

    # -- payouts ---------------------------------------------------------------------------

    def finish(self, now: datetime) -> None:
        """Pay out settled Shopify Payments balance every third day up to ``now``."""
        store = self.store
        unpaid = sorted(
            (b for b in store.balance_transactions if b.payout_id is None and not b.test),
            key=lambda b: (b.transaction_date, b.id),
        )
        store.balance_transactions.sort(key=lambda b: b.id)
        if store.next_payout_at is not None:
            day = store.next_payout_at
        else:
            first = store.history_start.replace(hour=12)
            day = first + ((3 - first.toordinal() % 3) % 3) * DAY
        pos = 0
        settle_delay = 2 * DAY
        carried: list[BalanceTransaction] = []
        while day <= now:
            batch = carried
            while pos < len(unpaid) and unpaid[pos].transaction_date < day - settle_delay:
                batch.append(unpaid[pos])
                pos += 1
            net = sum((b.net for b in batch), ZERO)
            if batch and net > 0:
                payout = Payout(
                    id=store.next_id("payout"),
                    issued_at=day,
                    status="PAID",
                    gross=sum((b.amount for b in batch), ZERO),
                    fee=sum((b.fee for b in batch), ZERO),
                    net=net,
                )
                for b in batch:
                    b.payout_id = payout.id
                store.payouts.append(payout)
                carried = []
            else:
                carried = batch
            day += 3 * DAY
        store.next_payout_at = day
        for payout in store.payouts[-3:]:
            payout.status = "IN_TRANSIT" if payout.issued_at > now - 2 * DAY else "PAID"
