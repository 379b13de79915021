"""The subset of the Google Ads Query Language the emulator understands.

``SELECT <fields> FROM <resource> [WHERE <cond> [AND <cond>]...] [ORDER BY <field> [ASC|DESC], ...]
[LIMIT <n>]`` over the resources ``customer`` and ``campaign``; conditions compare a field
with a quoted literal (``=``, ``!=``, ``>=``, ``<=``, ``>``, ``<``) or use
``segments.date BETWEEN 'a' AND 'b'`` (dates as ``YYYY-MM-DD`` or ``YYYYMMDD``).
Anything else is refused with the error Google Ads gives (``queryError`` codes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

RESOURCE_FIELDS: dict[str, frozenset[str]] = {
    "customer": frozenset(
        {
            "customer.id",
            "customer.resource_name",
            "customer.descriptive_name",
            "customer.currency_code",
            "customer.time_zone",
            "customer.status",
            "customer.manager",
        }
    ),
    "campaign": frozenset(
        {
            "campaign.id",
            "campaign.resource_name",
            "campaign.name",
            "campaign.status",
            "campaign.advertising_channel_type",
            "customer.id",
            "customer.currency_code",
            "customer.time_zone",
            "customer.descriptive_name",
            "segments.date",
            "metrics.cost_micros",
            "metrics.impressions",
            "metrics.clicks",
            "metrics.conversions",
            "metrics.conversions_value",
        }
    ),
}

_QUERY = re.compile(
    r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<resource>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?(?:\s+ORDER\s+BY\s+(?P<order>.+?))?(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_BETWEEN = re.compile(r"^(?P<field>[\w.]+)\s+BETWEEN\s+'(?P<low>[^']*)'\s+&\s+'(?P<high>[^']*)'$", re.I)
_BETWEEN_AND = re.compile(r"(BETWEEN\s+'[^']*')\s+AND\s+", re.IGNORECASE)
_COMPARE = re.compile(r"^(?P<field>[\w.]+)\s*(?P<op>=|!=|>=|<=|>|<)\s*'(?P<value>[^']*)'$")
_SPLIT_AND = re.compile(r"\s+AND\s+(?=(?:[^']*'[^']*')*[^']*$)", re.IGNORECASE)


class GaqlError(ValueError):
    """A query Google Ads would refuse; ``code`` is its ``queryError`` value."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Query:
    """A parsed query."""

    fields: list[str]
    resource: str
    conditions: list[tuple[str, str, str]] = field(default_factory=list)  # (field, op, value)
    order: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    limit: int | None = None

    @property
    def date_range(self) -> tuple[date | None, date | None]:
        """The inclusive segments.date bounds the conditions set."""
        low: date | None = None
        high: date | None = None
        for name, op, value in self.conditions:
            if name != "segments.date":
                continue
            day = parse_date(value)
            if op in {">=", "="}:
                low = max(low, day) if low else day
            if op in {"<=", "="}:
                high = min(high, day) if high else day
            if op == ">":
                low = date.fromordinal(day.toordinal() + 1)
            if op == "<":
                high = date.fromordinal(day.toordinal() - 1)
        return low, high


def parse_date(value: str) -> date:
    """A GAQL date literal (``YYYY-MM-DD`` or ``YYYYMMDD``)."""
    try:
        if re.fullmatch(r"\d{8}", value):
            return date(int(value[:4]), int(value[4:6]), int(value[6:]))
        return date.fromisoformat(value)
    except ValueError as exc:
        raise GaqlError("INVALID_VALUE_WITH_BETWEEN_OPERATOR", f"Invalid date literal '{value}'.") from exc


def parse(text: str) -> Query:
    """Parse one GAQL query or raise :class:`GaqlError`."""
    match = _QUERY.match(text or "")
    if match is None:
        raise GaqlError("UNEXPECTED_END_OF_QUERY", "Error in query: unexpected end of query.")
    resource = match["resource"].lower()
    if resource not in RESOURCE_FIELDS:
        raise GaqlError(
            "INVALID_RESOURCE_NAME_IN_FROM_CLAUSE",
            f"Error in FROM clause: invalid resource name '{resource}' (the sandbox knows "
            f"{', '.join(sorted(RESOURCE_FIELDS))}).",
        )
    fields = [f.strip() for f in match["fields"].split(",")]
    known = RESOURCE_FIELDS[resource]
    for name in fields:
        if name not in known:
            raise GaqlError("UNRECOGNIZED_FIELD", f"Unrecognized field in the query: '{name}'.")
    query = Query(fields, resource, limit=int(match["limit"]) if match["limit"] else None)
    if match["where"]:
        where = _BETWEEN_AND.sub(r"\1 & ", match["where"].strip())  # keep BETWEEN's own AND
        for condition in _SPLIT_AND.split(where):
            query.conditions.extend(_condition(condition.strip(), known))
    if match["order"]:
        for part in match["order"].split(","):
            name, _, direction = part.strip().partition(" ")
            if name not in known:
                raise GaqlError("UNRECOGNIZED_FIELD", f"Unrecognized field in ORDER BY: '{name}'.")
            query.order.append((name, direction.strip().upper() == "DESC"))
    low, high = query.date_range
    if "segments.date" in fields and (low is None or high is None):
        raise GaqlError(
            "EXPECTED_FILTERS_ON_DATE_RANGE",
            "Filters on date range need to be finite: the query selects segments.date, "
            "so it needs a WHERE condition with a start and an end date.",
        )
    return query


def _condition(text: str, known: frozenset[str]) -> list[tuple[str, str, str]]:
    between = _BETWEEN.match(text)
    if between:
        name = between["field"]
        if name not in known:
            raise GaqlError("UNRECOGNIZED_FIELD", f"Unrecognized field in WHERE: '{name}'.")
        return [(name, ">=", between["low"]), (name, "<=", between["high"])]
    compare = _COMPARE.match(text)
    if compare is None:
        raise GaqlError("UNEXPECTED_INPUT", f"Error in WHERE clause: the sandbox cannot read '{text}'.")
    if compare["field"] not in known:
        raise GaqlError("UNRECOGNIZED_FIELD", f"Unrecognized field in WHERE: '{compare['field']}'.")
    return [(compare["field"], compare["op"], compare["value"])]


def matches(query: Query, values: dict[str, str]) -> bool:
    """Whether a row (field -> comparable string) meets every condition."""
    for name, op, literal in query.conditions:
        value = values.get(name, "")
        if name == "segments.date":
            value, literal = parse_date(value).isoformat(), parse_date(literal).isoformat()
        ok = {
            "=": value == literal,
            "!=": value != literal,
            ">=": value >= literal,
            "<=": value <= literal,
            ">": value > literal,
            "<": value < literal,
        }[op]
        if not ok:
            return False
    return True
