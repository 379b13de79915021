"""Shopify's search syntax for the ``query`` argument of connections.

Supports ``field:value``, comparators ``:>``, ``:>=``, ``:<``, ``:<=``, quoted values,
``AND`` (also implied by a space), ``OR``, and ``NOT``/``-`` negation. Times may be dates
(``2025-01-01``, read in the shop's time zone) or ISO-8601 date-times (``Z`` or an offset;
without one, the shop's time zone). As on Shopify, a field the resource does not support is
ignored with a warning (``extensions.search``), not refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

TOKEN = re.compile(r"""\s*(\(|\)|-?[\w.]+:(?:>=|<=|>|<)?(?:'[^']*'|"[^"]*"|[^\s()]+)|'[^']*'|"[^"]*"|[^\s()]+)""")
TERM = re.compile(r"""^(-?)([\w.]+):(>=|<=|>|<)?(.*)$""")

# kind of a field: "time", "int", "bool" or "str"
Accessor = tuple[str, Callable[[Any], Any]]


@dataclass
class Term:
    field: str
    op: str  # "=", ">", ">=", "<", "<="
    value: Any
    negate: bool = False


@dataclass
class Search:
    """A parsed query: OR of AND-groups of terms (``groups == []`` matches everything)."""

    groups: list[list[Term]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)

    def matches(self, item: Any, fields: dict[str, Accessor]) -> bool:
        if not self.groups:
            return True
        return any(all(_match(term, item, fields) for term in group) for group in self.groups)


def parse_search(text: str | None, fields: dict[str, Accessor], zone: ZoneInfo) -> Search:
    """Parse ``text`` for a resource whose searchable fields are ``fields``."""
    search = Search()
    if not text or not text.strip():
        return search
    group: list[Term] = []
    negate_next = False
    for token in TOKEN.findall(text):
        upper = token.upper()
        if upper == "AND" or token in ("(", ")"):
            continue
        if upper == "OR":
            if group:
                search.groups.append(group)
            group = []
            continue
        if upper == "NOT":
            negate_next = True
            continue
        term = _term(token, fields, zone, search.warnings)
        if term is not None:
            term.negate = term.negate != negate_next
            group.append(term)
        negate_next = False
    if group:
        search.groups.append(group)
    return search


def _term(token: str, fields: dict[str, Accessor], zone: ZoneInfo, warnings: list[dict[str, str]]) -> Term | None:
    match = TERM.match(token)
    if match is None:
        return Term(field="default", op="=", value=token.strip("'\"").lower())
    neg, name, op, raw = match.groups()
    raw = raw.strip("'\"")
    if name not in fields:
        warnings.append({"field": name, "message": "Invalid search field for this query."})
        return None
    kind = fields[name][0]
    try:
        value: Any
        if kind == "time":
            value = _time(raw, zone)
        elif kind == "int":
            value = int(raw)
        elif kind == "bool":
            if raw.lower() not in ("true", "false"):
                raise ValueError(raw)
            value = raw.lower() == "true"
        else:
            value = raw.lower()
    except ValueError:
        warnings.append({"field": name, "message": f"Input `{raw}` is not an accepted value."})
        return None
    return Term(field=name, op=op or "=", value=value, negate=bool(neg))


def _time(raw: str, zone: ZoneInfo) -> datetime:
    text = raw.replace("Z", "+00:00")
    if len(text) == 10:
        return datetime.combine(datetime.strptime(text, "%Y-%m-%d").date(), time(0), tzinfo=zone)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _match(term: Term, item: Any, fields: dict[str, Accessor]) -> bool:
    if term.field == "default":
        text = fields.get("default", ("str", lambda _i: ""))[1](item)
        return term.value in (text or "").lower()
    kind, get = fields[term.field]
    actual = get(item)
    if actual is None:
        result = False
    elif kind == "str" and term.op == "=":
        result = str(actual).lower() == term.value
    elif term.op == "=":
        result = actual == term.value
    elif term.op == ">":
        result = actual > term.value
    elif term.op == ">=":
        result = actual >= term.value
    elif term.op == "<":
        result = actual < term.value
    else:
        result = actual <= term.value
    return result != term.negate
