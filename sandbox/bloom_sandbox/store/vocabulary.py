"""The words and proportions the store generator draws from: names, places, products, carriers, fees."""

from __future__ import annotations

from decimal import Decimal

# fmt: off
FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Mia", "Lucas", "Amelia", "Mateo",
    "Harper", "Levi", "Chloe", "Ethan", "Nora", "Aiden", "Zoe", "Leo", "Maya", "Jack", "Aria", "Owen",
)
LAST_NAMES = (
    "Smith", "Johnson", "Garcia", "Brown", "Miller", "Davis", "Lopez", "Wilson", "Moore", "Taylor", "Clark",
    "Lewis", "Walker", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill",
)
# country: (weight, cities, presentment currency, shop-to-presentment rate, tax rates, shipping taxed)
COUNTRIES = {
    "US": (
        75,
        ("New York", "Austin", "Denver", "Portland", "Atlanta", "Chicago"),
        "USD",
        "1",
        ("0.0725", "0.0825", "0.06", "0"),
        False,
    ),
    "CA": (12, ("Toronto", "Vancouver", "Montreal"), "CAD", "1.36", ("0.13", "0.05"), True),
    "GB": (6, ("London", "Leeds", "Bristol"), "USD", "1", ("0.20",), True),
    "DE": (4, ("Berlin", "Hamburg", "Munich"), "EUR", "0.92", ("0.19",), True),
    "AU": (3, ("Sydney", "Melbourne"), "USD", "1", ("0.10",), True),
}
COUNTRY_CODES = tuple(COUNTRIES)
COUNTRY_WEIGHTS = tuple(c[0] for c in COUNTRIES.values())
CARRIERS = {
    "US": (("USPS", "Priority Mail"), ("USPS", "Ground Advantage"), ("UPS", "UPS Ground"), ("FedEx", "Home Delivery")),
    "CA": (("Canada Post", "Expedited Parcel"),),
}
INTERNATIONAL_CARRIERS = (("DHL Express", "Express Worldwide"),)
PRODUCT_WORDS = (
    ("Rose", "Peony", "Tulip", "Lavender", "Orchid", "Sunflower", "Lily", "Dahlia", "Fern", "Ivy", "Sage", "Magnolia"),
    ("Bouquet", "Candle", "Vase", "Planter", "Wreath", "Soap", "Tea Blend", "Print", "Seed Kit", "Diffuser"),
)
PRODUCT_TYPES = ("Flowers", "Home", "Garden", "Bath", "Gifts")
VENDORS = ("Bloom Studio", "Petal & Stem", "Greenhouse Co.", "Meadow Goods")
VARIANT_TITLES = (
    ("Default Title",),
    ("Small", "Large"),
    ("Small", "Medium", "Large"),
    ("Red", "White", "Pink", "Mixed"),
)
SOURCE_NAMES = ("web", "pos", "shopify_draft_order", "iphone")
SOURCE_WEIGHTS = (85, 7, 4, 4)
CANCEL_REASONS = ("CUSTOMER", "INVENTORY", "FRAUD", "DECLINED", "OTHER")
# Synced processing fees: (rate, fixed amount) per gateway; manual and gift-card payments have none.
GATEWAY_FEES = {"shopify_payments": (Decimal("0.029"), Decimal("0.30")), "paypal": (Decimal("0.0349"), Decimal("0.49"))}
TAGS = ("gift", "wholesale", "vip", "subscription", "local-pickup", "birthday")
# fmt: on
