"""The tap's settings: their JSON schema and the checks the schema cannot express.

Each platform has its own group of settings; a platform is synced when any setting of
its group is given, and then its whole group must be complete. Secrets are marked
``secret`` and never appear in messages: errors name the setting, not its value.
"""

from __future__ import annotations

import difflib
import ipaddress
import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from singer_sdk import typing as th

PLATFORMS = ("meta", "google_ads", "tiktok")
DEFAULT_REQUEST_TIMEOUT = 300  # seconds without an answer before a request is retried (the SDK's default)
LABELS = {"meta": "Meta", "google_ads": "Google Ads", "tiktok": "TikTok"}
# API versions: their form, and the oldest one the platform still serves (older ones are sunset).
VERSIONS = {
    "meta_api_version": (re.compile(r"v(\d+)\.0"), 21, "v21.0"),
    "google_ads_api_version": (re.compile(r"v(\d+)"), 19, "v21"),
}


@dataclass(frozen=True)
class PlatformSettings:
    """What defines one platform's group of settings."""

    platform: str
    ids_setting: str  # the list of account ids
    credentials: tuple[str, ...]  # settings every sync of the platform needs
    url_settings: tuple[str, ...]
    lookback_default: int


META = PlatformSettings("meta", "meta_account_ids", ("meta_access_token",), ("meta_api_url",), 28)
GOOGLE_ADS = PlatformSettings(
    "google_ads",
    "google_ads_customer_ids",
    ("google_ads_developer_token", "google_ads_client_id", "google_ads_client_secret", "google_ads_refresh_token"),
    ("google_ads_api_url", "google_ads_token_url"),
    30,
)
TIKTOK = PlatformSettings("tiktok", "tiktok_advertiser_ids", ("tiktok_access_token",), ("tiktok_api_url",), 7)
GROUPS = {group.platform: group for group in (META, GOOGLE_ADS, TIKTOK)}


def _ids(name: str, title: str, description: str) -> th.Property:
    return th.Property(name, th.ArrayType(th.StringType), title=title, description=description)


def _lookback(platform: str, default: int) -> th.Property:
    return th.Property(
        f"{platform}_lookback_days",
        th.IntegerType(minimum=1, maximum=90),
        default=default,
        title=f"{LABELS[platform]} re-read window (days)",
        description=f"Every run re-reads this many days before the last synced day, because "
        f"{LABELS[platform]} revises recent figures (attribution, invalid clicks).",
    )


CONFIG_SCHEMA = th.PropertiesList(
    th.Property(
        "start_date",
        th.DateType,
        required=True,
        title="History start",
        description="First day to read (YYYY-MM-DD), in each account's own time zone.",
    ),
    th.Property(
        "end_date",
        th.DateType,
        title="Last day",
        description="Last day to read (YYYY-MM-DD); default: today in each account's time zone.",
    ),
    th.Property(
        "initial_window_days",
        th.IntegerType(minimum=1, maximum=31),
        default=7,
        title="First-sync recent window (days)",
        description="A first sync reads first the account days that overlap the last this many "
        "x 24 hours (today and this many days before it), then history by month.",
    ),
    th.Property(
        "backfill",
        th.BooleanType,
        default=True,
        title="Backfill",
        description="Read the history back to start_date. With false a run reads only the live "
        "window: on a first sync the last initial_window_days days (reports of the last days "
        "appear in seconds), later the trailing re-read window. The history stays pending in "
        "each account's state (history.until, history.next); the next run with true (the "
        "default) reads it by month from there, with no gap and no day read twice.",
    ),
    th.Property(
        "rate_limit_max_wait_seconds",
        th.NumberType(minimum=0),
        default=300,
        title="Longest rate-limit wait (seconds)",
        description="Upper bound on any single wait for a platform's rate limit or quota.",
    ),
    th.Property(
        "request_max_tries",
        th.IntegerType(minimum=1, maximum=20),
        default=6,
        title="Tries per request",
        description="Attempts per request before a retriable error fails.",
    ),
    th.Property(
        "request_timeout",
        th.NumberType(exclusive_minimum=0),
        default=DEFAULT_REQUEST_TIMEOUT,
        title="Request timeout (seconds)",
        description="How long one request to a platform's API may go without an answer; then it "
        "is retried like a 5xx (up to request_max_tries). More than 0. Google's OAuth token "
        "endpoint keeps the SDK's own 60 s.",
    ),
    # Meta
    th.Property(
        "meta_access_token",
        th.StringType,
        secret=True,
        title="Meta access token",
        description="A system-user access token with the ads_read permission.",
    ),
    _ids("meta_account_ids", "Meta ad account ids", "Ad account ids, as act_<id> or <id>."),
    th.Property(
        "meta_api_url",
        th.StringType,
        default="https://graph.facebook.com",
        title="Meta API base URL",
        description="Graph API base URL (the sandbox: http://127.0.0.1:<port>/meta).",
    ),
    th.Property("meta_api_version", th.StringType, default="v21.0", title="Graph API version"),
    _lookback("meta", META.lookback_default),
    th.Property(
        "meta_usage_pause_percent",
        th.IntegerType(minimum=1, maximum=100),
        default=75,
        title="Meta usage pause threshold (%)",
        description="Slow down once x-business-use-case-usage reaches this share of the limit.",
    ),
    th.Property(
        "meta_conversion_action",
        th.StringType,
        default="purchase",
        title="Meta conversion action",
        description="The action_type counted as conversions (and its value as conversion_value).",
    ),
    th.Property(
        "meta_report_poll_seconds",
        th.NumberType(minimum=0),
        default=10,
        title="Meta report poll interval (seconds)",
        description="Longest wait between polls of an async insights report run (waits start at 0.5 s and double).",
    ),
    # Google Ads
    th.Property("google_ads_developer_token", th.StringType, secret=True, title="Google Ads developer token"),
    th.Property("google_ads_client_id", th.StringType, title="Google OAuth client id"),
    th.Property("google_ads_client_secret", th.StringType, secret=True, title="Google OAuth client secret"),
    th.Property("google_ads_refresh_token", th.StringType, secret=True, title="Google OAuth refresh token"),
    _ids("google_ads_customer_ids", "Google Ads customer ids", "Customer ids, digits only (dashes are removed)."),
    th.Property(
        "google_ads_login_customer_id",
        th.StringType,
        title="Google Ads manager id",
        description="The manager account (login-customer-id) to act through, if any.",
    ),
    th.Property(
        "google_ads_api_url",
        th.StringType,
        default="https://googleads.googleapis.com",
        title="Google Ads API base URL",
        description="The sandbox: http://127.0.0.1:<port>/googleads.",
    ),
    th.Property(
        "google_ads_token_url",
        th.StringType,
        default="https://oauth2.googleapis.com/token",
        title="Google OAuth token URL",
        description="The sandbox: http://127.0.0.1:<port>/googleads/oauth2/token.",
    ),
    th.Property("google_ads_api_version", th.StringType, default="v21", title="Google Ads API version"),
    _lookback("google_ads", GOOGLE_ADS.lookback_default),
    # TikTok
    th.Property("tiktok_access_token", th.StringType, secret=True, title="TikTok access token"),
    _ids("tiktok_advertiser_ids", "TikTok advertiser ids", "Advertiser ids the token is authorized for."),
    th.Property(
        "tiktok_api_url",
        th.StringType,
        default="https://business-api.tiktok.com",
        title="TikTok API base URL",
        description="The sandbox: http://127.0.0.1:<port>/tiktok.",
    ),
    _lookback("tiktok", TIKTOK.lookback_default),
).to_dict()


def normalize_account_id(platform: str, raw: str) -> str:
    """An account id as the tap emits it: Meta without ``act_``, Google without dashes."""
    value = str(raw).strip()
    if platform == "meta":
        return value.removeprefix("act_")
    if platform == "google_ads":
        return value.replace("-", "")
    return value


def account_label(platform: str, account_id: str) -> str:
    """How messages name an account: its platform and the id as the platform writes it."""
    return f"{LABELS[platform]} account {'act_' if platform == 'meta' else ''}{account_id}"


def configured_platforms(config: Mapping[str, Any]) -> list[str]:
    """Platforms with any of their settings given, in a fixed order."""
    return [p for p in PLATFORMS if any(config.get(name) for name in (*GROUPS[p].credentials, GROUPS[p].ids_setting))]


def account_ids(config: Mapping[str, Any], platform: str) -> list[str]:
    """The configured, normalized account ids of one platform (duplicates dropped)."""
    ids = [normalize_account_id(platform, raw) for raw in config.get(GROUPS[platform].ids_setting) or []]
    return list(dict.fromkeys(ids))


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(name: str, value: str) -> str | None:
    """An error for a base URL that is not https (loopback hosts may use http)."""
    parsed = urlparse(value)
    if parsed.scheme == "https" and parsed.hostname:
        return None
    if parsed.scheme == "http" and parsed.hostname and is_loopback(parsed.hostname):
        return None
    return (
        f"{name} must be an https:// URL (plain http is allowed only for loopback hosts such as "
        f"127.0.0.1 or localhost); got a {parsed.scheme or 'scheme-less'} URL for host "
        f"{parsed.hostname or '(none)'}"
    )


def problems(config: Mapping[str, Any], *, require_platform: bool = False, known: Collection[str] = ()) -> list[str]:
    """Everything wrong with ``config`` that the JSON schema does not catch.

    ``known`` is every setting the tap reads (its own and the SDK's); any other one is
    refused, since a misspelled or unsupported setting would otherwise be silently ignored.
    """
    errors: list[str] = [_unknown(name, known) for name in config if known and name not in known]
    start = _date(config, "start_date", errors)
    end = _date(config, "end_date", errors)
    # Every account's time zone is at most 14 hours ahead of UTC.
    latest = (datetime.now(UTC) + timedelta(hours=14)).date()
    if start and start > latest:
        errors.append(f"start_date {start} is in the future: set start_date to the first past day to read")
    if start and end and end < start:
        errors.append("end_date is before start_date: set end_date on or after start_date, or leave it out")
    errors.extend(_version_problems(config))
    timeout = config.get("request_timeout")
    if isinstance(timeout, float) and not math.isfinite(timeout):  # the schema takes NaN and infinity
        errors.append(
            f"request_timeout {timeout} is not a number of seconds: use e.g. {DEFAULT_REQUEST_TIMEOUT} (the default)"
        )
    platforms = configured_platforms(config)
    if require_platform and not platforms:
        errors.append(
            "No ad platform is configured: give meta_access_token + meta_account_ids, the "
            "google_ads_* OAuth settings + google_ads_customer_ids, or tiktok_access_token + "
            "tiktok_advertiser_ids"
        )
    for platform in platforms:
        group = GROUPS[platform]
        missing = [name for name in (*group.credentials, group.ids_setting) if not config.get(name)]
        if missing:
            errors.append(
                f"{LABELS[platform]} is partly configured: set {', '.join(missing)} too, or remove "
                f"the other {platform}_* settings to skip {LABELS[platform]}"
            )
        for raw in config.get(group.ids_setting) or []:
            account = normalize_account_id(platform, raw)
            if not account.isdigit():
                errors.append(
                    f"{group.ids_setting} holds '{raw}', which is not an account id: "
                    f"{LABELS[platform]} account ids are digits"
                    f"{' (act_ prefix allowed)' if platform == 'meta' else ''}"
                )
        for name in group.url_settings:
            value = config.get(name) or CONFIG_SCHEMA["properties"][name].get("default")
            if value and (error := check_url(name, value)):
                errors.append(error)
    login = config.get("google_ads_login_customer_id")
    if login and not normalize_account_id("google_ads", login).isdigit():
        errors.append("google_ads_login_customer_id must be a customer id (digits, dashes allowed)")
    return errors


def _unknown(name: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    fix = f"did you mean {close[0]}?" if close else "remove it (see tap-adplatforms --about for the settings)"
    platforms = ", ".join(PLATFORMS)
    return f"{name} is not a setting of tap-adplatforms (platforms: {platforms}): {fix}"


def _version_problems(config: Mapping[str, Any]) -> list[str]:
    errors = []
    for name, (form, oldest, example) in VERSIONS.items():
        value = config.get(name)
        if value is None:
            continue
        match = form.fullmatch(str(value))
        if not match:
            errors.append(f"{name} '{value}' is not an API version: write it like {example}, or leave it out")
        elif int(match[1]) < oldest:
            errors.append(f"{name} {value} is sunset: use {example} (the tap's default) or leave it out")
    return errors


def _date(config: Mapping[str, Any], name: str, errors: list[str]) -> date | None:
    value = config.get(name)
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        errors.append(f"{name} must be a date written YYYY-MM-DD")
        return None
