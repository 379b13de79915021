"""Every message tap-shipping gives a user has a row in the README's troubleshooting table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TAP = Path(__file__).resolve().parents[1]
MODULES = sorted((TAP / "tap_shipping").rglob("*.py"))
JOINED = re.sub(r'"\s*\n\s*f?"', "", "\n".join(m.read_text() for m in MODULES))  # implicit concatenation
README = (TAP / "README.md").read_text()
ROWS = README.split("## Troubleshooting\n", 1)[-1].split("\n## ", 1)[0] if "## Troubleshooting\n" in README else ""

# A fixed piece of each message: the code writes it, the table quotes it.
PIECES = (
    # settings, refused before any request
    "is not a setting of tap-shipping",
    "is not an http(s) URL; use e.g.",
    "must use https (plain http is allowed only for loopback hosts",
    "must not carry a query, fragment or credentials",
    "ShipStation needs both the API key and the API secret",
    "does not look like a Shippo API token",
    "no provider configured",
    "is in the future; set it to the first past day",
    "is not an ISO-8601 date or time",
    "is not an ISO 4217 code",
    "is not an option; use keep, hash or drop",
    "tap-shipping settings are invalid: ",
    "(tap-shipping --about describes every setting)",
    "Config validation failed",
    # the providers' answers
    "credentials refused (",
    "not found at ",
    "refused the request (",
    " from ",
    "); retrying in ",
    "still failing after ",
    "cannot reach ",
    "the API sent a next-page link to another host",
    "not a ShipStation timestamp",
    "was not complete JSON",
    ": the record ",
    "is before 1970-01-02",
    "the state's bookmark of ",
    "on every try",
    "the tap does not know: ",
    "within request_timeout (",
    "no answer in time (request_timeout ",
    "is not a number of seconds; use e.g.",
)


def texts_of_the_code() -> list[str]:
    """Messages raised, logged as warnings or errors, or given as settings errors."""
    found = re.findall(r'(?:append|Error|warning|error)\(\s*f?"([^"]+)"', JOINED)
    found += re.findall(r'msg = \(?\s*f?"([^"]+)"', JOINED)
    for function in re.findall(r"\ndef (?:_unknown|_readable)\(.*?(?=\n\S|\Z)", JOINED, re.S):
        found += re.findall(r'return \(?f"([^"]+)"', function)
    return [text for text in found if text.strip("%s ")]


@pytest.mark.parametrize("piece", PIECES)
def test_piece_is_written_by_the_code_and_quoted_by_the_table(piece):
    assert piece in JOINED
    assert piece in ROWS


def test_the_table_covers_the_code():
    texts = texts_of_the_code()
    assert len(texts) > 20
    missing = [text for text in texts if not any(piece in text for piece in PIECES)]
    assert not missing
