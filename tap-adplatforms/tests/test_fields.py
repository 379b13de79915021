"""How the tap reads a raw row's fields: the value converted, or a FieldError naming the field and the problem."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tap_adplatforms.records import FieldError, count, day, decimal, field, micros, money


@pytest.mark.parametrize(
    ("row", "path", "convert", "value"),
    [
        ({"spend": "12.5"}, "spend", money, "12.50"),
        ({"spend": None}, "spend", money, "0.00"),
        ({"metrics": {"costMicros": "1234567"}}, "metrics.costMicros", micros, "1.234567"),
        ({"metrics": {"costMicros": "12000000"}}, "metrics.costMicros", micros, "12.00"),
        ({"metrics": {}}, "metrics.impressions", count, 0),
        ({"impressions": "42"}, "impressions", count, 42),
        ({"impressions": Decimal("42.0")}, "impressions", count, 42),  # a JSON number, parsed as Decimal
        ({"dimensions": {"stat_time_day": "2026-10-01 00:00:00"}}, "dimensions.stat_time_day", day, "2026-10-01"),
        ({"conversions": Decimal("2.5")}, "conversions", decimal, Decimal("2.5")),
        ({"campaign": {"id": 20000000001}}, "campaign.id", str, "20000000001"),
        ({"campaign": {}}, "campaign.name", str, None),
    ],
)
def test_a_good_value_is_converted(row, path, convert, value):
    assert field(row, path, convert, required=False) == value


@pytest.mark.parametrize(
    ("row", "path", "convert", "what"),
    [
        ({}, "campaign.id", str, "has no campaign.id"),
        ({"campaign": {"id": {"a": 1}}}, "campaign.id", str, "has a dict as campaign.id"),
        ({"spend": "twelve"}, "spend", money, "has spend 'twelve', which is not an amount of money"),
        ({"spend": "NaN"}, "spend", money, "has spend 'NaN', which is not an amount of money"),
        ({"impressions": "1.5"}, "impressions", count, "has impressions '1.5', which is not a whole number"),
        ({"clicks": Decimal("2.5")}, "clicks", count, "has clicks Decimal('2.5'), which is not a whole number"),
        ({"date_start": 20261101}, "date_start", day, "has date_start 20261101, which is not a day written YYYY-MM-DD"),
        ({"date_start": "2026-13-01"}, "date_start", day, "has date_start '2026-13-01', which is not a day"),
        ({"costMicros": "x" * 60}, "costMicros", micros, "has costMicros '" + "x" * 36 + "..., which"),
    ],
)
def test_a_missing_or_wrong_value_names_the_field(row, path, convert, what):
    with pytest.raises(FieldError) as caught:
        field(row, path, convert)
    assert caught.value.what.startswith(what), caught.value.what
