"""Relay cursor connections (``first``/``after``, ``last``/``before``) over sorted lists."""

from __future__ import annotations

import base64
import bisect
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

MAX_PAGE = 250


class PaginationError(ValueError):
    """A connection argument Shopify refuses."""


@dataclass
class Source:
    """The items a connection pages over, already filtered and in order; ``key`` gives each one's cursor."""

    items: Sequence[Any]
    key: Callable[[Any], tuple[Any, ...]]  # sort key, unique per item: (value, id)
    descending: bool = False
    keys: list[Any] | None = None  # cached [key(item)], ascending in list order when not descending


@dataclass
class Connection:
    """One page: ``edges``, ``nodes`` and ``pageInfo`` as Shopify's connection types show them."""

    page: Sequence[Any]
    cursors: list[str]
    has_next: bool
    has_previous: bool

    @property
    def nodes(self) -> Sequence[Any]:
        return self.page

    @property
    def edges(self) -> list[dict[str, Any]]:
        return [{"cursor": c, "node": n} for c, n in zip(self.cursors, self.page, strict=True)]

    @property
    def page_info(self) -> dict[str, Any]:
        return {
            "hasNextPage": self.has_next,
            "hasPreviousPage": self.has_previous,
            "startCursor": self.cursors[0] if self.cursors else None,
            "endCursor": self.cursors[-1] if self.cursors else None,
        }


def encode_cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps({"last_id": key}, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str) -> Any:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))["last_id"]
    except (ValueError, KeyError, TypeError):
        raise PaginationError(f"Invalid cursor for current pagination sort: {cursor!r}") from None
    return tuple(key) if isinstance(key, list) else key


def check_page_args(first: Any, last: Any) -> str | None:
    """Shopify's refusal of a connection's ``first``/``last``, or None when they are fine."""
    if first is None and last is None:
        return "you must provide one of first or last"
    if first is not None and last is not None:
        return "providing both first and last is not supported"
    size = first if first is not None else last
    if size < 0:
        return f"{'first' if first is not None else 'last'} must be a non-negative integer"
    if size > MAX_PAGE:
        return f"The maximum number of items per page is {MAX_PAGE}, {size} requested."
    return None


def paginate(source: Source, args: dict[str, Any]) -> Connection:
    """The page of ``source`` that ``first``/``after``/``last``/``before`` select."""
    problem = check_page_args(args.get("first"), args.get("last"))
    if problem:
        raise PaginationError(problem)
    items = source.items
    keys = source.keys if source.keys is not None else [source.key(i) for i in items]
    order_keys = [_neg(k) for k in keys] if source.descending else keys
    lo, hi = 0, len(items)
    if args.get("after"):
        lo = bisect.bisect_right(order_keys, _oriented(decode_cursor(args["after"]), source.descending))
    if args.get("before"):
        hi = bisect.bisect_left(order_keys, _oriented(decode_cursor(args["before"]), source.descending))
    hi = max(lo, hi)
    if args.get("first") is not None:
        start, end = lo, min(hi, lo + args["first"])
    else:
        start, end = max(lo, hi - args["last"]), hi
    page = items[start:end]
    cursors = [encode_cursor(k) for k in keys[start:end]]
    return Connection(page=page, cursors=cursors, has_next=end < len(items), has_previous=start > 0)


def _oriented(key: Any, descending: bool) -> Any:
    return _neg(key) if descending else key


def _neg(key: Any) -> Any:
    """An order-reversing transform of a key (ints and lists of ints/strings)."""
    if isinstance(key, list | tuple):
        return tuple(_neg(k) for k in key)
    if isinstance(key, int):
        return -key
    return _Rev(key)


class _Rev:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Rev) -> bool:
        return self.value > other.value

    def __gt__(self, other: _Rev) -> bool:
        return self.value < other.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Rev) and self.value == other.value

    def __hash__(self) -> int:
        return hash(self.value)
