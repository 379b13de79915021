"""The tap's settings: their JSON schema and the checks JSON schema cannot express."""

from __future__ import annotations

import ipaddress
import math
import re
import typing as t
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlparse

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from singer_sdk import typing as th

from tap_shopify_bloom.errors import ActionableError

DEFAULT_API_VERSION = "2026-10"
# Paging costs about 1 point per order (10 orders/s on a standard plan); a bulk operation
# about 0.1: from a few hundred orders on, bulk is faster even with its start-up time.
DEFAULT_BULK_THRESHOLD = 500
#: Seconds to wait for an answer to one request (the SDK's default timeout).
DEFAULT_REQUEST_TIMEOUT = 300
STORE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
BACKFILL_WINDOWS = ("month",)
PII_MODES = ("keep", "hash", "drop")

CONFIG_SCHEMA = th.PropertiesList(
    th.Property(
        "store",
        th.StringType,
        required=True,
        title="Store",
        description="The shop's handle, the `<store>` in `<store>.myshopify.com` "
        "(lowercase letters, digits and hyphens); `<store>.myshopify.com` is accepted too. "
        "Every record carries it in its `shop` column.",
    ),
    th.Property(
        "access_token",
        th.StringType,
        required=True,
        secret=True,
        title="Access token",
        description="Admin API access token of a custom app (`shpat_...`) with the scopes "
        "read_orders, read_all_orders, read_products, read_customers and "
        "read_shopify_payments_payouts.",
    ),
    th.Property(
        "start_date",
        th.DateTimeType,
        required=True,
        title="Start date",
        description="Earliest update time to sync (ISO-8601 date or date-time, UTC if no "
        "offset; not in the future). The first sync fetches history back to it.",
    ),
    th.Property(
        "api_version",
        th.StringType,
        default=DEFAULT_API_VERSION,
        title="API version",
        description="Shopify Admin API version (`YYYY-MM`). The tap's queries are written "
        "and tested against the default.",
    ),
    th.Property(
        "api_url",
        th.StringType,
        title="API URL",
        description="Base URL of the Admin API; defaults to `https://<store>.myshopify.com`. "
        "Plain `http` is allowed only for loopback hosts (the local sandbox).",
    ),
    th.Property(
        "max_concurrency",
        th.IntegerType,
        default=3,
        title="Maximum concurrency",
        description="How many bulk operations may run at once (1 to 5; Shopify allows at "
        "most 5 per shop from API 2026-01).",
    ),
    th.Property(
        "initial_window_days",
        th.IntegerType,
        default=7,
        title="Initial window (days)",
        description="On the first sync, the most recent this many days of every stream are "
        "fetched first, before the history (products: the whole catalog, with unit costs).",
    ),
    th.Property(
        "backfill",
        th.BooleanType,
        default=True,
        title="Backfill",
        description="Fetch the history back to `start_date`. With `false` a run fetches only the "
        "live window: on a first sync the last `initial_window_days` of every stream and the whole "
        "catalog of products with their unit costs (reports of the last days appear in minutes, "
        "with their costs), later what changed since the previous run. The history "
        "is recorded in state as pending (`windows.backfill` of each stream); the next run with "
        "`true` (the default) fetches it from there, newest month first, with no gap at the seam "
        "and no record fetched again.",
    ),
    th.Property(
        "backfill_window",
        th.StringType,
        default="month",
        allowed_values=list(BACKFILL_WINDOWS),
        title="Backfill window",
        description="Size of the closed windows in which history is fetched newest first; "
        "each finished window is recorded in state.",
    ),
    th.Property(
        "bulk_threshold",
        th.IntegerType,
        default=DEFAULT_BULK_THRESHOLD,
        title="Bulk threshold",
        description="A window (the live window or a history month) of orders, transactions, "
        "products or customers with at least this many root objects (Shopify's `ordersCount`, "
        "`productsCount`, `customersCount`) is fetched with a bulk operation instead of "
        "paginated queries; smaller windows page. Payouts and balance transactions always "
        "page. 0 disables bulk operations.",
    ),
    th.Property(
        "request_timeout",
        th.NumberType,
        default=DEFAULT_REQUEST_TIMEOUT,
        title="Request timeout (seconds)",
        description="How long one HTTP request (a GraphQL query or a bulk result download) may go "
        "without an answer before it counts as a transient fault and is retried with backoff (8 tries); "
        "more than 0.",
    ),
    th.Property(
        "pii",
        th.StringType,
        default="hash",
        allowed_values=list(PII_MODES),
        title="Personal data",
        description="What to do with customers' email, phone, names and city: `keep`, "
        "`hash` (SHA-256 of the trimmed, lowercased value) or `drop` (null). Orders only "
        "ever carry `email_hash`.",
    ),
).to_dict()


@dataclass(frozen=True)
class Settings:
    """Validated, normalised settings."""

    store: str
    access_token: str
    start_date: datetime
    api_version: str
    api_url: str
    max_concurrency: int
    initial_window_days: int
    backfill: bool
    bulk_threshold: int
    request_timeout: float
    pii: str

    @property
    def graphql_url(self) -> str:
        """The Admin GraphQL endpoint."""
        return f"{self.api_url}/admin/api/{self.api_version}/graphql.json"


#: The fix named when a setting is missing or of the wrong type (JSON schema's checks).
FIXES = {
    "store": "Set it to the part before .myshopify.com, e.g. `my-shop`.",
    "access_token": "Set it to the Admin API access token of your custom app (`shpat_...`).",
    "start_date": "Set it to an ISO-8601 date, e.g. `2024-01-01`.",
    "api_version": "Use `YYYY-MM`, e.g. `2026-10`, or leave it unset.",
    "api_url": "Use e.g. `https://my-shop.myshopify.com`, or leave it unset.",
    "max_concurrency": "Use a number from 1 to 5.",
    "initial_window_days": "Use a whole number of days, at least 1.",
    "bulk_threshold": "Use a whole number; 0 disables bulk operations.",
    "request_timeout": "Use a number of seconds greater than 0, e.g. `300` (the default).",
}
TYPE_NAMES = {"integer": "a whole number", "number": "a number", "string": "text", "boolean": "true or false"}


def refusal(setting: str, problem: str, fix: str) -> ActionableError:
    """The one-line refusal of a setting: what is wrong with it and how to fix it."""
    return ActionableError(f"Setting `{setting}`: {problem}. {fix}")


def _refuse(setting: str, problem: str, fix: str) -> t.NoReturn:
    raise refusal(setting, problem, fix)


def schema_refusal(config: t.Mapping[str, t.Any], schema: t.Mapping[str, t.Any]) -> ActionableError | None:
    """The first setting of ``config`` that ``schema`` refuses, worded like every other refusal.

    Instead of JSON schema's own wording (``'x' is a required property``); a secret's value
    is never shown.
    """
    properties = schema.get("properties") or {}
    fallback = "See `tap-shopify-bloom --about` for what it takes."
    for name in schema.get("required") or ():
        if config.get(name) is None:
            return refusal(name, "it is missing", FIXES.get(name, fallback))
    for name, spec in properties.items():
        error = best_match(Draft202012Validator(spec).iter_errors(config[name])) if name in config else None
        if error is None:
            continue
        shown = "it" if spec.get("secret") else repr(config[name])
        if error.validator == "enum":
            options = [repr(option) for option in spec["enum"] if option is not None]
            use = f"Use {options[0]}." if len(options) == 1 else f"Use one of {', '.join(options)}."
            return refusal(name, f"{shown} is not an option", use)
        if error.validator == "type":
            types = spec["type"] if isinstance(spec["type"], list) else [spec["type"]]
            wanted = " or ".join(TYPE_NAMES.get(kind, kind) for kind in types if kind != "null")
            return refusal(name, f"{shown} is not {wanted}", FIXES.get(name, fallback))
        return refusal(name, error.message if not spec.get("secret") else "it is invalid", FIXES.get(name, fallback))
    return None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalise_store(value: str) -> str:
    """The store handle from a handle or a `<handle>.myshopify.com` domain."""
    handle = value.strip().lower().removeprefix("https://").rstrip("/")
    handle = handle.removesuffix(".myshopify.com")
    if not STORE_PATTERN.match(handle):
        _refuse(
            "store",
            f"{value!r} is not a store handle",
            "Use the part before .myshopify.com, e.g. `my-shop` (lowercase letters, digits, hyphens).",
        )
    return handle


def parse_start_date(value: str, now: datetime) -> datetime:
    """The start date as aware UTC, refusing malformed or future values."""
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        _refuse("start_date", f"{value!r} is not a date", "Use ISO-8601, e.g. `2024-01-01`.")
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if parsed > now:
        _refuse("start_date", f"{value} is in the future", "Use a date in the past.")
    return parsed.astimezone(UTC)


def parse_api_url(value: str | None, store: str) -> str:
    """The API base URL, https unless the host is a loopback address."""
    if not value:
        return f"https://{store}.myshopify.com"
    url = urlparse(value.strip())
    if url.scheme not in {"http", "https"} or not url.hostname:
        _refuse("api_url", f"{value!r} is not an http(s) URL", "Use e.g. `https://my-shop.myshopify.com`.")
    if url.scheme == "http" and not _is_loopback(url.hostname):
        _refuse(
            "api_url",
            f"plain http is not allowed for {url.hostname}",
            "Use https; http is only accepted for 127.0.0.1, localhost or ::1.",
        )
    return value.strip().rstrip("/")


def parse_settings(config: t.Mapping[str, t.Any], now: datetime | None = None) -> Settings:
    """Check the settings beyond their JSON schema and normalise them.

    Raises:
        ActionableError: naming the setting and the fix.
    """
    now = now or datetime.now(UTC)
    store = normalise_store(str(config.get("store") or ""))
    token = str(config.get("access_token") or "").strip()
    if not token:
        _refuse("access_token", "it is empty", "Paste the Admin API access token of your custom app.")
    version = str(config.get("api_version") or DEFAULT_API_VERSION)
    if not re.fullmatch(r"\d{4}-(01|04|07|10)|unstable", version):
        _refuse("api_version", f"{version!r} is not a Shopify API version", "Use `YYYY-MM`, e.g. `2026-10`.")
    concurrency = int(config.get("max_concurrency", 3))
    if not 1 <= concurrency <= 5:
        _refuse("max_concurrency", f"{concurrency} is out of range", "Use a number from 1 to 5.")
    window_days = int(config.get("initial_window_days", 7))
    if window_days < 1:
        _refuse("initial_window_days", f"{window_days} is too small", "Use at least 1.")
    threshold = int(config.get("bulk_threshold", DEFAULT_BULK_THRESHOLD))
    if threshold < 0:
        _refuse("bulk_threshold", f"{threshold} is negative", "Use 0 to disable bulk operations.")
    timeout = float(config.get("request_timeout", DEFAULT_REQUEST_TIMEOUT))
    if not (math.isfinite(timeout) and timeout > 0):
        _refuse("request_timeout", f"{timeout:g} is not more than 0", FIXES["request_timeout"])
    pii = str(config.get("pii", "hash"))
    if pii not in PII_MODES:
        _refuse("pii", f"{pii!r} is not an option", "Use one of keep, hash, drop.")
    window = str(config.get("backfill_window", "month"))
    if window not in BACKFILL_WINDOWS:
        _refuse("backfill_window", f"{window!r} is not supported", "Use `month`.")
    return Settings(
        store=store,
        access_token=token,
        start_date=parse_start_date(config.get("start_date", ""), now),
        api_version=version,
        api_url=parse_api_url(config.get("api_url"), store),
        max_concurrency=concurrency,
        initial_window_days=window_days,
        backfill=config.get("backfill", True) is not False,
        bulk_threshold=threshold,
        request_timeout=timeout,
        pii=pii,
    )
