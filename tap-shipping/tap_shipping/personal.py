"""Personal fields of the raw records, kept, hashed or dropped per the ``pii`` setting.

Hashing is tap-shopify-bloom's: SHA-256 of the trimmed, lower-cased value, so a merchant
can join the two taps' hashes (e.g. ShipStation's ``customerEmail`` with Shopify's ``email``).
"""

from __future__ import annotations

import hashlib
from typing import Any

PII_MODES = ("keep", "hash", "drop")
DEFAULT_PII = "hash"


def sha256(value: Any) -> str | None:
    """SHA-256 hex digest of a trimmed, lower-cased personal value (None and blanks stay None)."""
    if value is None or not str(value).strip():
        return None
    return hashlib.sha256(str(value).strip().lower().encode()).hexdigest()


def protect(value: Any, mode: str) -> Any:
    """Apply the ``pii`` setting to one personal value."""
    if mode == "keep":
        return value
    return sha256(value) if mode == "hash" else None


def protected(row: dict[str, Any], fields: tuple[str, ...], mode: str, extra: str) -> dict[str, Any]:
    """``row`` with each personal field (``name`` or ``parent.child``) protected, and, unless ``mode``
    is ``keep``, the values of its ``extra`` object (fields new to the tap) nulled: the tap cannot
    know whether a new field is personal, so only their names stay."""
    if mode == "keep":
        return row
    row = dict(row)
    for path in fields:
        parent, _, child = path.rpartition(".")
        holder = row.get(parent) if parent else row
        if isinstance(holder, dict) and holder.get(child) is not None:
            if parent:
                holder = row[parent] = dict(holder)
            holder[child] = protect(holder[child], mode)
    if isinstance(row.get(extra), dict):
        row[extra] = dict.fromkeys(row[extra])
    return row
