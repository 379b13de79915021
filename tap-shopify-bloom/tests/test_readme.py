"""The README's troubleshooting table names every message the tap gives a merchant."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CODE = "\n".join(p.read_text() for p in sorted((ROOT / "tap_shopify_bloom").rglob("*.py")))
SOURCES = re.sub(r'"\s*\n\s*f?"', "", CODE)  # adjacent string literals joined, as Python does
TABLE = re.search(r"## Troubleshooting\n(.*?)\n## ", (ROOT / "README.md").read_text(), re.S).group(1)

# The fixed opening of each message, as the code writes it and the table shows it.
MESSAGES = [
    "Setting `",
    "Shopify refused the access token (401: invalid or revoked)",
    "(ACCESS_DENIED): the app needs the scope",
    "Shopify denied access (403)",
    "Store not found: ",
    "Cannot reach Shopify at ",
    "is frozen (402 Payment Required): its Shopify bill is unpaid",
    "is locked (423 Locked): Shopify locks a shop that",
    "which it no longer supports",
    "Shopify reports deprecated API use by '",
    "skipped: Shopify Payments is not enabled on this shop",
    "the app lacks the scope `read_all_orders`",
    "Shopify refused the query of '",
    "Shopify refused the bulk query of '",
    ": Shopify sent a record the tap cannot sync: ",
    "Shopify answered ",
    "Shopify's answer was not complete JSON; retrying",
    ": Backing off ",
    "Shopify answered THROTTLED (",
    "Shopify kept answering THROTTLED for the tap's whole throttle budget of ",
    "splitting the window and retrying",
    "expired; running the operation again",
    "Shopify cannot count a window",
    ": Shopify sent no answer within `request_timeout` (",
]


@pytest.mark.parametrize("message", MESSAGES)
def test_message_is_in_the_code_and_the_table(message):
    assert message in SOURCES
    assert message in TABLE


def test_every_warning_and_error_of_the_code_is_listed():
    """Each message the code raises or warns with contains one listed above.

    (Settings are refused through one function, whose ``Setting `<name>`: ...`` is listed.)
    """
    raised = r"(?:MerchantActionError|ActionableError|FatalAPIError|RetriableAPIError|ThrottledError)"
    texts = re.findall(raised + r'\(\s*f?"([^"]+)"', SOURCES)
    texts += re.findall(r'logger\.warning\(\s*f?"([^"]+)"', SOURCES)
    assert len(texts) > 15
    for text in texts:
        assert any(message in text for message in MESSAGES), text
