"""How a platform's raw rows become the tap's records: the one place for reading fields, refusing bad
rows and keeping the fields a platform adds.

Each platform declares, per kind of record (:data:`KINDS`), a :class:`RowShape`: which raw field
gives each column (:class:`Field`, a dotted path and a converter) and which fields it sends
that the tap leaves out on purpose. Every other top-level field of a row is new: it is kept,
by its API name, in the record's ``extra_fields`` object (a jsonb column in Postgres), and the
source logs its name, never its value, once per stream per run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from singer_sdk.exceptions import FatalAPIError

CENT = Decimal("0.01")
MICRO = Decimal("0.000001")
EXTRA_FIELDS = "extra_fields"  # the record's object of the fields the tap does not know


class BadRecordError(FatalAPIError):
    """An API sent a record the tap cannot read; the message names the stream, the account and the record."""


class FieldError(ValueError):
    """A field of a raw row is missing or of the wrong type; ``what`` says which and how."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def dig(row: Any, path: str) -> Any:
    """The value at a dotted ``path`` of a raw row (``campaign.id``), or ``None``."""
    for part in path.split("."):
        row = row.get(part) if isinstance(row, Mapping) else None
    return row


def field(row: Mapping[str, Any], path: str, convert: Callable[[Any], Any] = str, *, required: bool = True) -> Any:
    """The value at ``path`` of a raw row, converted by ``convert`` (one of :func:`day`, :func:`count`,
    :func:`decimal`, :func:`money`, :func:`micros`, ``str``); a missing optional text is ``None``, a
    missing optional value ``convert(None)`` (0 for numbers).

    Raises:
        FieldError: naming the field, if it is missing while ``required`` or ``convert`` refuses it.
    """
    value = dig(row, path)
    if value is None and required:
        raise FieldError(f"has no {path}")
    if value is None and convert is str:
        return None  # an absent text stays absent; absent numbers are 0
    if value is not None and isinstance(value, (Mapping, list, bool)):
        raise FieldError(f"has a {type(value).__name__} as {path}")
    try:
        return convert(value)
    except (ValueError, TypeError, ArithmeticError) as exc:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise FieldError(f"has {path} {shown}, which is not {_EXPECTED.get(convert, 'readable')}") from exc


@dataclass(frozen=True)
class Field:
    """Where a raw row holds a value (a dotted path), how to convert it, whether it must be there."""

    path: str
    convert: Callable[[Any], Any] = str
    required: bool = False

    def read(self, row: Mapping[str, Any]) -> Any:
        """The converted value (see :func:`field`)."""
        return field(row, self.path, self.convert, required=self.required)


@dataclass(frozen=True)
class RowShape:
    """How one platform's raw rows of one kind give a record's columns.

    ``left_out`` are top-level fields the API sends that the tap does not load on purpose (an id
    it already has, a field another column covers); with the first parts of the fields' paths
    they are the fields the tap knows. Any other top-level field is new.
    """

    fields: Mapping[str, Field]
    left_out: frozenset[str] = dataclass_field(default_factory=frozenset)

    @property
    def known(self) -> frozenset[str]:
        """The top-level fields of a row the tap reads or leaves out on purpose."""
        return self.left_out | {spec.path.split(".", 1)[0] for spec in self.fields.values()}

    def read(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """The record's columns (without ``extra_fields``).

        Raises:
            FieldError: naming the first field that is missing or of the wrong type.
        """
        return {name: spec.read(row) for name, spec in self.fields.items()}

    def new_fields(self, row: Mapping[str, Any]) -> dict[str, Any] | None:
        """The top-level fields of ``row`` the tap does not know, by name (``None``: there are none)."""
        known = self.known
        found = {str(name): value for name, value in row.items() if name not in known}
        return found or None


@dataclass(frozen=True)
class RecordKind:
    """A kind of record every platform gives, as messages name it."""

    kind: str  # ad_accounts, campaigns, ad_spend_daily
    per_platform: bool  # its stream is <platform>_<kind>; else one stream named <kind> for every platform
    again: str  # why running again after a bad row loses nothing

    def stream(self, platform: str) -> str:
        """The name of the stream that emits this kind of record of ``platform``."""
        return f"{platform}_{self.kind}" if self.per_platform else self.kind

    @staticmethod
    def named(row: Any, shape: RowShape) -> str:
        """How a message names a raw row: by its campaign (and day), or as the account's record."""
        campaign = shape.fields.get("campaign_id")
        if campaign is None:
            return "the account's record"
        day_field = shape.fields.get("date")
        day_ = dig(row, day_field.path) if day_field else None
        return f"the record of campaign {dig(row, campaign.path) or '(none)'}" + (
            f" on {day_}" if day_ is not None else ""
        )


KINDS: dict[str, RecordKind] = {
    kind.kind: kind
    for kind in (
        RecordKind("ad_accounts", per_platform=True, again="the account is read whole on every run"),
        RecordKind("campaigns", per_platform=True, again="campaigns are read whole on every run"),
        RecordKind(
            "ad_spend_daily", per_platform=False, again="the state keeps this window unread, so nothing is skipped"
        ),
    )
}


def field_names(names: set[str] | list[str]) -> str:
    """Field names for a log line: sorted, quoted, each cut to 60 characters (never a value)."""
    return ", ".join(repr(name if len(name) <= 60 else name[:57] + "...") for name in sorted(names))


def day(value: Any) -> str:
    """A day as ``YYYY-MM-DD`` from a ``YYYY-MM-DD`` or ``YYYY-MM-DD hh:mm:ss`` string."""
    if not isinstance(value, str):
        raise TypeError(value)
    return date.fromisoformat(value[:10]).isoformat()


def count(value: Any) -> int:
    """A whole number (an API's int64 may come as a string); absent counts as 0."""
    if value is None:
        return 0
    if isinstance(value, Decimal) and value != value.to_integral_value():
        raise ValueError(value)
    if isinstance(value, float) or (isinstance(value, str) and not value.strip().lstrip("-").isdigit()):
        raise ValueError(value)
    return int(value)


def decimal(value: Any) -> Decimal:
    """A finite decimal number; absent counts as 0."""
    number = Decimal(str(value if value is not None else 0))
    if not number.is_finite():
        raise InvalidOperation(value)
    return number


def money(value: Decimal | str | int | None) -> str:
    """A decimal string with at least two decimals and no rounding."""
    amount = decimal(value)
    return str(amount.quantize(CENT)) if amount == amount.quantize(CENT) else str(amount.normalize())


def micros(value: Any) -> str:
    """Millionths of a currency unit (Google's ``cost_micros``) as :func:`money`, exactly."""
    return money(count(value) * MICRO)


_EXPECTED: dict[Callable[[Any], Any], str] = {
    day: "a day written YYYY-MM-DD",
    count: "a whole number",
    decimal: "a number",
    money: "an amount of money",
    micros: "a whole number of micros",
}
