"""Which row of the troubleshooting guides a failure's message maps to, and what to do.

The guides are the tables under "Troubleshooting" in README.md and in each tap's README. This is
the one place that maps a failure's one-line message to its row: ``bloom-sync status`` shows
the row's fix next to the message, and ``bloom_sync.runs`` keeps it with the failed run. The
messages it reads are the taps' and the target's own, after :func:`scrub`; no secret or
personal value is kept (tokens, passwords, credentials in URLs and e-mail addresses are masked).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_MESSAGE = 400
MASK = "***"

# Things that look like a secret or a personal value, masked in any message kept or shown.
_SECRETS = (
    re.compile(r"\b(?:shpat|shpca|shppa|shpss)_[A-Za-z0-9]+"),  # Shopify access tokens
    re.compile(r"\bshippo_(?:live|test)_[A-Za-z0-9]+"),
    re.compile(r"(?i)\b(?:bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}"),
    re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"),  # user:password@ in a URL
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # e-mail addresses
    re.compile(r"\b[A-Za-z0-9_+/=-]{32,}"),  # long opaque strings: keys, tokens, hashes of personal values
)
# ``password=...``, ``"access_token": "..."``: the value after a secret's name.
_NAMED_SECRET = re.compile(
    r"(?i)((?:access_?token|refresh_?token|api_?key|api_?secret|client_?secret|secret|password|passwd|token)"
    r"[\"']?\s*[:=]\s*[\"']?)[^\s\"',;&)]+"
)


def scrub(message: str) -> str:
    """``message`` on one line, without anything that looks like a secret or an e-mail, at most 400 characters."""
    text = " ".join(message.split())
    text = _NAMED_SECRET.sub(lambda match: match[1] + MASK, text)
    for pattern in _SECRETS:
        text = pattern.sub(MASK, text)
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


@dataclass(frozen=True)
class Row:
    """One row of a troubleshooting table: where it is, the message it is about, and what to do."""

    guide: str
    symptom: str
    fix: str

    def describe(self) -> str:
        """``<fix> (<guide>: <symptom>)``, the text kept with a failed run."""
        return f"{self.fix} ({self.guide}: {self.symptom})"


SHOPIFY = "tap-shopify-bloom/README.md#troubleshooting"
ADS = "tap-adplatforms/README.md#troubleshooting"
SHIPPING = "tap-shipping/README.md#troubleshooting"
SUITE = "README.md#troubleshooting"

RULES: tuple[tuple[re.Pattern[str], Row], ...] = tuple(
    (re.compile(pattern), Row(guide, symptom, fix))
    for pattern, guide, symptom, fix in (
        (
            r"Shopify refused the access token \(401",
            SHOPIFY,
            "Shopify refused the access token (401: invalid or revoked)",
            "Create a new Admin API token in the custom app and set access_token (SHOPIFY_ACCESS_TOKEN).",
        ),
        (
            r"Shopify denied access to .*scope",
            SHOPIFY,
            "Shopify denied access to <stream> (ACCESS_DENIED)",
            "Add the named scope in the app's Admin API scopes, reinstall the app, update access_token.",
        ),
        (
            r"Shopify denied access \(403\)",
            SHOPIFY,
            "Shopify denied access (403)",
            "Grant the named scopes and reinstall the app.",
        ),
        (r"Store not found", SHOPIFY, "Store not found", "Check store (the handle before .myshopify.com) and api_url."),
        (r"Cannot reach Shopify", SHOPIFY, "Cannot reach Shopify", "Check api_url and the network; run again."),
        (
            r"is frozen \(402",
            SHOPIFY,
            "The shop is frozen (402 Payment Required)",
            "The shop owner pays the outstanding Shopify bill; run again.",
        ),
        (
            r"is locked \(423",
            SHOPIFY,
            "The shop is locked (423 Locked)",
            "The shop owner contacts Shopify Support; run again once unlocked.",
        ),
        (
            r"kept answering THROTTLED",
            SHOPIFY,
            "Shopify kept answering THROTTLED",
            "Stop the other app or sync spending the store's API points, or run again later.",
        ),
        (
            r"Meta refused the request \(error 190",
            ADS,
            "Meta refused the request (error 190)",
            "Create a new system-user access token with ads_read and set meta_access_token.",
        ),
        (
            r"refused the refresh token \(HTTP 400, invalid_grant",
            ADS,
            "Google Ads refused the refresh token (invalid_grant)",
            "Create a new refresh token (authorize again) and set google_ads_refresh_token.",
        ),
        (
            r"refused the refresh token \(HTTP 401, invalid_client",
            ADS,
            "Google Ads refused the client (invalid_client)",
            "Check google_ads_client_id and google_ads_client_secret.",
        ),
        (
            r"TikTok refused the request \(code 4010[45]",
            ADS,
            "TikTok refused the access token",
            "Authorize the app again and set tiktok_access_token.",
        ),
        (
            r"credentials refused \(401\); check shipstation",
            SHIPPING,
            "ShipStation credentials refused (401)",
            "Copy the API key and secret from ShipStation and set shipstation_api_key and shipstation_api_secret.",
        ),
        (
            r"credentials refused \(401\); check shippo",
            SHIPPING,
            "Shippo credentials refused (401)",
            "Copy the token from Shippo's API settings and set shippo_api_token.",
        ),
        (
            r"Another '.*' pipeline is already running",
            SUITE,
            "Another '<job>' pipeline is already running",
            "A killed run left its mark: make sure no other run is alive, then wait 5 minutes or run with --force.",
        ),
        (
            r"(?i)password authentication failed|could not connect to server|connection refused.*5432",
            SUITE,
            "target-postgres cannot use the warehouse",
            "Run bloom-sync again: it checks the warehouse and names the setting.",
        ),
        (
            r"still failing after|Backing off .* after try|Giving up|no answer .* within request_timeout",
            SUITE,
            "A run fails after its retries",
            "Run again later: it resumes where the failed run stopped.",
        ),
        (
            r"sent a record the tap cannot sync|has no \S+\. What to do: run again",
            SUITE,
            "A source sent a record the tap cannot read",
            "Run again; if the same record is refused again, report the line.",
        ),
        (
            r"Failure in test|Database Error|Compilation Error",
            "transform/README.md",
            "dbt build failed",
            "Read the dbt error in the log; after editing a seed, run dbt-postgres:build-full-refresh.",
        ),
    )
)
# Runs that ended without a message of their own.
KILLED = Row(
    SUITE,
    "`bloom-sync status`: `last killed`",
    "Run bloom-sync again (within 5 minutes of the kill with MELTANO_RUN_FORCE=true): it resumes from the last "
    "state the killed run committed.",
)
STOPPED = Row(SUITE, "`bloom-sync status`: `last stopped`", "Run bloom-sync again: it resumes from state.")
FALLBACK = Row(
    SUITE, "bloom-sync: <job> failed", "Read the end of the log for the message; run again: it resumes from state."
)


def row_for(message: str | None) -> Row:
    """The troubleshooting row for a failure's message (the general one when no row names it)."""
    for pattern, row in RULES:
        if message and pattern.search(message):
            return row
    return FALLBACK
