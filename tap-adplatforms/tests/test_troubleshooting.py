"""The README's troubleshooting table names every message the tap gives a user."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CODE = "\n".join(p.read_text() for p in sorted((ROOT / "tap_adplatforms").rglob("*.py")))
SOURCES = re.sub(r'"\s*\n\s*f?"', "", CODE)  # adjacent string literals joined, as Python does
TABLE = re.search(r"## Troubleshooting\n(.*?)(?:\n## |\Z)", (ROOT / "README.md").read_text(), re.S).group(1)

# A fixed part of each message, as the code writes it and the table shows it.
MESSAGES = [
    # settings, refused before any request
    "is not a setting of tap-adplatforms",
    "is in the future: set start_date",
    "end_date is before start_date",
    "No ad platform is configured",
    "is partly configured: set",
    "which is not an account id",
    "must be an https:// URL",
    "google_ads_login_customer_id must be a customer id",
    "is not an API version",
    "is sunset: use",
    "must be a date written YYYY-MM-DD",
    "(tap-adplatforms --about describes every setting)",
    "Invalid tap-adplatforms settings",
    "Config validation failed",
    # every platform
    "HTTP ",
    "; waiting ",
    "); retrying in ",
    "keeps daily figures for",
    "is read per account",
    "; still failing after ",
    "cannot reach ",
    "within request_timeout (",
    "no answer in time from ",
    "is not a number of seconds: use e.g.",
    "was not complete JSON",
    # bad records
    "the record of ",
    "has no ",
    "has a ",
    ", which is not ",
    "is a ",
    "the tap does not know: ",
    "sent data the tap cannot read",
    # Meta
    "throttled by Meta (error ",
    "temporary Meta error ",
    "Meta refused the request (error ",
    "of Meta's business-use-case limit",
    "ended as '",
    "Meta could not finish the insights report for ",
    "did not finish after ",
    # Google Ads
    "the OAuth token endpoint refused the refresh token",
    "the OAuth token endpoint answered HTTP",
    "the OAuth token endpoint failed",
    "access token rejected (",
    "Google Ads quota exhausted (",
    "temporary Google Ads error (",
    "Google Ads refused the request (",
    # TikTok
    "from TikTok",
    "without JSON",
    "with an unexpected body",
    "rate limited by TikTok (code 40100",
    "temporary TikTok error ",
    "TikTok refused the request (code ",
]


def messages_in_code() -> list[str]:
    """The text of each message the code raises, logs as a warning or error, or returns as a settings error."""
    calls = r"(?:problem|fatal|append|Error|warning|error|log)"
    texts = re.findall(calls + r'\(\s*f?"([^"]+)"', SOURCES)
    texts += re.findall(r'msg = \(?\s*f?"([^"]+)"', SOURCES)
    for body in re.findall(r"\ndef (?:_unknown|check_url|_readable)\(.*?(?=\n\S|\Z)", SOURCES, re.S):
        texts += re.findall(r'return \(?f"([^"]+)"', body)
    return [text for text in texts if text.strip("%s ")]


@pytest.mark.parametrize("message", MESSAGES)
def test_message_is_in_the_code_and_the_table(message):
    assert message in SOURCES
    assert message in TABLE


def test_every_error_and_warning_of_the_code_is_listed():
    texts = messages_in_code()
    assert len(texts) > 30
    for text in texts:
        assert any(message in text for message in MESSAGES), text
