"""Settings checks that JSON schema cannot express, run before any request.

Every message names the provider, the account and what to change.
"""

from __future__ import annotations

import difflib
import hashlib
import ipaddress
import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from singer_sdk.exceptions import ConfigValidationError

from tap_shipping.personal import DEFAULT_PII, PII_MODES
from tap_shipping.timezones import parse_iso

DEFAULT_URLS = {"shipstation": "https://ssapi.shipstation.com", "shippo": "https://api.goshippo.com"}
LABELS = {"shipstation": "ShipStation", "shippo": "Shippo"}  # the providers as messages name them
EARLIEST = datetime(1970, 1, 2, tzinfo=UTC)  # no label is older; earlier times overflow time zone arithmetic
SHIPPO_LIMITS = {"test": 10, "live": 50}  # GET list requests per minute per token (Shippo docs)
SHIPPO_SINGLE_LIMITS = {"test": 400, "live": 4000}  # GET of one object per minute per token (Shippo docs)


@dataclass(frozen=True)
class Account:
    """One configured provider account."""

    provider: str  # "shipstation" or "shippo"
    account_id: str
    api_url: str  # without a trailing slash

    def describe(self) -> str:
        """``ShipStation account 'x'``, for messages."""
        return f"{LABELS[self.provider]} account '{self.account_id}'"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_url(provider: str, account_id: str, url: str, errors: list[str]) -> str:
    parts = urlsplit(url)
    setting = f"{provider}_api_url"
    who = f"{LABELS[provider]} account '{account_id}'"
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        errors.append(f"{who}: {setting} '{url}' is not an http(s) URL; use e.g. {DEFAULT_URLS[provider]}")
    elif parts.scheme == "http" and not _is_loopback(parts.hostname):
        errors.append(
            f"{who}: {setting} must use https (plain http is allowed only for loopback hosts "
            f"such as 127.0.0.1); change it to https://{parts.netloc}{parts.path}"
        )
    elif parts.query or parts.fragment or parts.username:
        errors.append(
            f"{who}: {setting} must not carry a query, fragment or credentials; put credentials in their own settings"
        )
    return url.rstrip("/")


def _default_account_id(provider: str, secret: str) -> str:
    return f"{provider}-{hashlib.sha256(secret.encode()).hexdigest()[:10]}"


def _unknown(name: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    fix = f"did you mean {close[0]}?" if close else "remove it (tap-shipping --about lists the settings)"
    return f"{name} is not a setting of tap-shipping (providers: ShipStation, Shippo): {fix}"


def configured_accounts(config: Mapping[str, Any], known: Collection[str] = ()) -> list[Account]:
    """The provider accounts whose settings are given, after checking them.

    ``known`` is every setting the tap reads (its own and the SDK's); any other one is
    refused, since a misspelled setting would otherwise be silently ignored.

    Raises:
        ConfigValidationError: naming each problem, its provider, account and fix.
    """
    errors: list[str] = [_unknown(name, known) for name in config if known and name not in known]
    accounts: list[Account] = []
    key, secret = config.get("shipstation_api_key"), config.get("shipstation_api_secret")
    if key or secret:
        account_id = config.get("shipstation_account_id") or _default_account_id("shipstation", key or secret)
        if not (key and secret):
            missing = "shipstation_api_secret" if key else "shipstation_api_key"
            errors.append(
                f"ShipStation account '{account_id}': {missing} is missing; ShipStation needs both the "
                "API key and the API secret (Settings > Account > API Settings)"
            )
        url = _check_url(
            "shipstation", account_id, config.get("shipstation_api_url") or DEFAULT_URLS["shipstation"], errors
        )
        accounts.append(Account("shipstation", account_id, url))
    token = config.get("shippo_api_token")
    if token:
        account_id = config.get("shippo_account_id") or _default_account_id("shippo", token)
        if not token.startswith(("shippo_live_", "shippo_test_")):
            errors.append(
                f"Shippo account '{account_id}': shippo_api_token does not look like a Shippo API token "
                "(they start with shippo_live_ or shippo_test_); copy it from Settings > API in Shippo"
            )
        url = _check_url("shippo", account_id, config.get("shippo_api_url") or DEFAULT_URLS["shippo"], errors)
        accounts.append(Account("shippo", account_id, url))
    if not accounts:
        errors.append(
            "no provider configured: set shipstation_api_key and shipstation_api_secret, and/or shippo_api_token"
        )
    if start := config.get("start_date"):
        errors += _start_date_problems(str(start))
    timeout = config.get("request_timeout")
    if isinstance(timeout, float) and not math.isfinite(timeout):  # the schema takes NaN and infinity
        errors.append(f"request_timeout {timeout} is not a number of seconds; use e.g. 300 (the default)")
    currency = config.get("shipstation_currency")
    if currency is not None and not re.fullmatch(r"[A-Z]{3}", str(currency)):
        errors.append(f"shipstation_currency '{currency}' is not an ISO 4217 code; use e.g. USD")
    pii = config.get("pii", DEFAULT_PII)
    if pii not in PII_MODES:
        errors.append(f"pii {pii!r} is not an option; use keep, hash or drop (default hash)")
    if errors:
        # The message carries every error: --discover reports it as a traceback, not a list.
        msg = "tap-shipping settings are invalid: " + "; ".join(errors)
        raise ConfigValidationError(msg, errors=errors)
    return accounts


def _start_date_problems(start: str) -> list[str]:
    try:
        moment = parse_iso(start)
    except ValueError:
        return [f"start_date '{start}' is not an ISO-8601 date or time; use e.g. 2024-01-01T00:00:00Z"]
    if moment > datetime.now(UTC):
        return [f"start_date {start} is in the future; set it to the first past day to read"]
    if moment < EARLIEST:
        return [
            f"start_date {start} is before 1970-01-02; set a day from 1970-01-02 on (e.g. 2024-01-01T00:00:00Z), "
            "or leave start_date out to read all history"
        ]
    return []


def shippo_requests_per_minute(config: Mapping[str, Any]) -> float:
    """The pace for Shippo list requests: the setting, else Shippo's limit for the token's mode."""
    if configured := config.get("shippo_requests_per_minute"):
        return float(configured)
    mode = "test" if str(config.get("shippo_api_token", "")).startswith("shippo_test_") else "live"
    return float(SHIPPO_LIMITS[mode])


def shippo_single_requests_per_minute(config: Mapping[str, Any]) -> float:
    """The pace for fetching one Shippo object by id: Shippo's far higher limit for single GETs."""
    mode = "test" if str(config.get("shippo_api_token", "")).startswith("shippo_test_") else "live"
    return max(float(SHIPPO_SINGLE_LIMITS[mode]), shippo_requests_per_minute(config))
