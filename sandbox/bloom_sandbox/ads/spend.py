"""Ad accounts, campaigns and their daily figures, derived from the world's seed and store.

Every figure is a pure function of the seed, the store's orders and the store's clock,
so the emulators and :func:`truth` agree without sharing served data. A campaign's
conversions on a day track the store's orders of that day (in the account's time zone);
its spend follows from a cost per conversion plus a daily base. Recent days are
provisional, as on the real platforms: the current day holds only the spend of the hours
elapsed, and the last :data:`SETTLING_DAYS` days are revised upwards as late conversions
and billing corrections come in, so moving the clock revises them.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from bloom_sandbox.world import World

SETTLING_DAYS = 4  # a day's figures are final from this age (in days) on
_SPEND_SETTLING = {1: Decimal("0.96"), 2: Decimal("0.985"), 3: Decimal("0.995")}
_CONVERSION_SETTLING = {1: 0.8, 2: 0.9, 3: 0.97}
CENT = Decimal("0.01")
MICRO = Decimal("0.000001")


@dataclass(frozen=True)
class Account:
    """One ad account on one platform."""

    platform: str  # meta / google_ads / tiktok
    account_id: str  # without Meta's "act_" prefix
    name: str
    currency: str
    timezone: str
    share: float  # share of the store's orders its campaigns claim as conversions
    cost_per_conversion: Decimal  # account currency
    value_rate: Decimal  # account currency per unit of shop currency (conversion value)
    spend_quantum: Decimal  # CENT, or MICRO for Google's cost_micros


@dataclass(frozen=True)
class Campaign:
    """One campaign; it spends from ``active_from`` to ``active_until`` (fractions of the generated history;
    a campaign active to 1.0 goes on spending after the clock moves on)."""

    account: Account
    campaign_id: str
    name: str
    status: str  # the platform's own status value
    objective: str  # the platform's own objective value
    weight: float  # its part of the account's conversions
    active_from: float = 0.0
    active_until: float = 1.0


@dataclass(frozen=True)
class DayFigures:
    """What one campaign reports for one day of its account."""

    spend: Decimal
    impressions: int
    clicks: int
    conversions: Decimal
    conversion_value: Decimal


META_MAIN = Account(
    "meta", "1001", "Bloom Meta Ads", "USD", "America/Los_Angeles", 0.30, Decimal("18.50"), Decimal("1"), CENT
)
META_UK = Account(
    "meta", "1002", "Bloom Meta Ads UK", "GBP", "Europe/London", 0.05, Decimal("14.20"), Decimal("0.79"), CENT
)
GOOGLE_MAIN = Account(
    "google_ads",
    "1234567890",
    "Bloom Google Ads",
    "USD",
    "America/New_York",
    0.25,
    Decimal("12.75"),
    Decimal("1"),
    MICRO,
)
TIKTOK_MAIN = Account(
    "tiktok", "7000000000001", "Bloom TikTok Ads", "EUR", "Europe/Berlin", 0.08, Decimal("16.40"), Decimal("0.92"), CENT
)

ACCOUNTS: tuple[Account, ...] = (META_MAIN, META_UK, GOOGLE_MAIN, TIKTOK_MAIN)

CAMPAIGNS: tuple[Campaign, ...] = (
    Campaign(META_MAIN, "23850000000001", "Prospecting - Broad", "ACTIVE", "OUTCOME_SALES", 0.5),
    Campaign(META_MAIN, "23850000000002", "Retargeting - 30d visitors", "ACTIVE", "OUTCOME_SALES", 0.35),
    Campaign(META_MAIN, "23850000000003", "Launch Awareness", "PAUSED", "OUTCOME_AWARENESS", 0.15, 0.0, 0.4),
    Campaign(META_UK, "23850000000101", "UK Prospecting", "ACTIVE", "OUTCOME_SALES", 1.0, 0.5, 1.0),
    Campaign(GOOGLE_MAIN, "20000000001", "Search - Brand", "ENABLED", "SEARCH", 0.45),
    Campaign(GOOGLE_MAIN, "20000000002", "Shopping - All Products", "ENABLED", "SHOPPING", 0.35),
    Campaign(GOOGLE_MAIN, "20000000003", "Performance Max", "PAUSED", "PERFORMANCE_MAX", 0.2, 0.2, 0.7),
    Campaign(TIKTOK_MAIN, "1790000000000001", "Spark Ads - UGC", "ENABLE", "WEB_CONVERSIONS", 0.7),
    Campaign(TIKTOK_MAIN, "1790000000000002", "Product Sales - Catalog", "ENABLE", "PRODUCT_SALES", 0.3, 0.3, 1.0),
)


def accounts(platform: str) -> list[Account]:
    """The accounts of one platform."""
    return [a for a in ACCOUNTS if a.platform == platform]


def campaigns(account: Account) -> list[Campaign]:
    """The campaigns of one account."""
    return [c for c in CAMPAIGNS if c.account == account]


def find_account(platform: str, account_id: str) -> Account | None:
    """The account with this id on this platform, if any."""
    return next((a for a in accounts(platform) if a.account_id == account_id), None)


def local_today(world: World, account: Account) -> date:
    """The account's current calendar day by the store's clock."""
    return world.store.now.astimezone(ZoneInfo(account.timezone)).date()


def oldest_daily_day(world: World, account: Account, months: int = 37) -> date:
    """The oldest day Meta and Google still report by day: ``months`` months back from today."""
    today = local_today(world, account)
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    first = date(year, month + 1, 1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return min(first + timedelta(days=today.day - 1), last) + timedelta(days=1)


def first_day(world: World, account: Account) -> date:
    """The first day of history in the account's time zone."""
    return world.store.history_start.astimezone(ZoneInfo(account.timezone)).date()


class SpendModel:
    """Daily figures per campaign, cached until the store's clock or orders change."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._cache: dict[tuple[str, str], dict[tuple[str, date], DayFigures]] = {}
        self._cache_key: tuple[datetime, int] | None = None

    def rows(self, account: Account) -> dict[tuple[str, date], DayFigures]:
        """Every (campaign id, day) that has figures, for one account."""
        key = (self.world.store.now, len(self.world.store.orders))
        if key != self._cache_key:
            self._cache.clear()
            self._cache_key = key
        cache_key = (account.platform, account.account_id)
        if cache_key not in self._cache:
            self._cache[cache_key] = self._compute(account)
        return self._cache[cache_key]

    def between(self, account: Account, since: date, until: date) -> list[tuple[Campaign, date, DayFigures]]:
        """Rows of ``since..until`` (inclusive), ordered by day then campaign."""
        by_id = {c.campaign_id: c for c in campaigns(account)}
        found = [
            (by_id[cid], day, figures) for (cid, day), figures in self.rows(account).items() if since <= day <= until
        ]
        return sorted(found, key=lambda row: (row[1], row[0].campaign_id))

    def _orders_by_day(self, account: Account) -> tuple[Counter[date], dict[date, Decimal]]:
        zone = ZoneInfo(account.timezone)
        counts: Counter[date] = Counter()
        sales: dict[date, Decimal] = {}
        now = self.world.store.now
        for order in self.world.store.orders:
            if order.test or order.processed_at > now:
                continue
            day = order.processed_at.astimezone(zone).date()
            counts[day] += 1
            sales[day] = sales.get(day, Decimal("0")) + order.subtotal
        return counts, sales

    def _compute(self, account: Account) -> dict[tuple[str, date], DayFigures]:
        counts, sales = self._orders_by_day(account)
        start, today = first_day(self.world, account), local_today(self.world, account)
        # Campaign lifetimes are fractions of the generated history, fixed when the store was made:
        # moving the clock must not move them (that would revise days older than any lookback).
        generated = self.world.store.generated_at.astimezone(ZoneInfo(account.timezone)).date()
        span = max((generated - start).days, 1)
        zone = ZoneInfo(account.timezone)
        local_now = self.world.store.now.astimezone(zone)
        elapsed = Decimal(local_now.hour * 3600 + local_now.minute * 60 + local_now.second) / 86400
        rows: dict[tuple[str, date], DayFigures] = {}
        day = start
        while day <= today:
            position = (day - start).days / span
            age = (today - day).days
            for campaign in campaigns(account):
                if position < campaign.active_from or position > campaign.active_until < 1.0:
                    continue
                figures = self._figures(campaign, day, age, elapsed, counts[day], sales.get(day))
                if figures.spend > 0:
                    rows[(campaign.campaign_id, day)] = figures
            day += timedelta(days=1)
        return rows

    def _figures(
        self, campaign: Campaign, day: date, age: int, elapsed: Decimal, orders: int, sales: Decimal | None
    ) -> DayFigures:
        account = campaign.account
        seed = f"{self.world.seed}|{account.platform}|{campaign.campaign_id}|{day.isoformat()}"
        rng = random.Random(seed)  # noqa: S311 - reproducible figures, not secrets
        conversions_final = orders * account.share * campaign.weight * rng.uniform(0.6, 1.4)
        base = Decimal(str(round(rng.uniform(4, 12) * campaign.weight, 4)))
        spend_final = (account.cost_per_conversion * Decimal(str(round(conversions_final, 4))) + base) * Decimal(
            str(round(rng.uniform(0.85, 1.15), 4))
        )
        per_mille = rng.uniform(90, 160)
        click_rate = rng.uniform(0.008, 0.03)
        value_noise = Decimal(str(round(rng.uniform(0.8, 1.2), 4)))
        if age <= 0:
            spend_factor, conversion_factor = elapsed, float(elapsed) * 0.6
        else:
            spend_factor = _SPEND_SETTLING.get(age, Decimal("1"))
            conversion_factor = _CONVERSION_SETTLING.get(age, 1.0)
        spend = (spend_final * spend_factor).quantize(account.spend_quantum)
        impressions = int(float(spend) * per_mille)
        clicks = int(impressions * click_rate)
        raw_conversions = conversions_final * conversion_factor
        if account.platform == "google_ads":  # data-driven attribution gives fractions
            conversions = Decimal(str(round(raw_conversions, 2)))
        else:  # whole conversions, rounded at random so that small accounts are not rounded away
            whole = int(raw_conversions)
            conversions = Decimal(whole + (1 if rng.random() < raw_conversions - whole else 0))
        average_order = (sales / orders) if sales is not None and orders else Decimal("0")
        value = (conversions * average_order * account.value_rate * value_noise).quantize(CENT)
        return DayFigures(spend, impressions, clicks, conversions, value)


def truth(model: SpendModel, platform: str) -> dict[str, dict[str, object]]:
    """Spend per account per day (the account's day), as decimal strings in its currency."""
    result: dict[str, dict[str, object]] = {}
    for account in accounts(platform):
        daily: dict[date, Decimal] = {}
        for (_cid, day), figures in model.rows(account).items():
            daily[day] = daily.get(day, Decimal("0")) + figures.spend
        result[account.account_id] = {
            "name": account.name,
            "currency": account.currency,
            "timezone": account.timezone,
            "spend": {day.isoformat(): str(daily[day]) for day in sorted(daily)},
        }
    return result
