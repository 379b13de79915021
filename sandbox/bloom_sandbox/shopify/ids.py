"""Shopify global ids: ``gid://shopify/<Type>/<n>``."""

from __future__ import annotations

import re

GID = re.compile(r"^gid://shopify/(\w+)/(\d+)$")


def gid(type_name: str, number: int) -> str:
    """The global id of object ``number`` of ``type_name``."""
    return f"gid://shopify/{type_name}/{number}"


def parse_gid(value: str) -> tuple[str, int] | None:
    """``(type, number)`` of a global id, or None when it is not one."""
    match = GID.match(value or "")
    return (match.group(1), int(match.group(2))) if match else None
