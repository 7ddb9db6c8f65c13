"""Right operands of the profile: each datatype read from an offer into a value evaluation can use at once."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from catalog.dataspace.profile import MODEL_CONTRACTS, USE_CATEGORIES

MAX_TEXT = 200
MAX_VALUES = 50
MAX_COUNT = 1_000_000_000
DURATION = re.compile(r"^P(?:(\d{1,3})Y)?(?:(\d{1,4})M)?(?:(\d{1,4})W)?(?:(\d{1,5})D)?$")
REGION = re.compile(r"^\d{6}$")


class BadValue(ValueError):
    """A right operand that its datatype refuses; the message says what was expected."""


@dataclass(frozen=True)
class Duration:
    """An ISO 8601 duration of whole days, weeks, months and years."""

    text: str
    years: int
    months: int
    days: int

    def after(self, start: date) -> date:
        """The day this long after `start` (a month's end is kept when the target month is shorter)."""
        month_index = start.month - 1 + self.months + 12 * self.years
        year, month = start.year + month_index // 12, month_index % 12 + 1
        if year > date.max.year:
            return date.max
        day = min(start.day, calendar.monthrange(year, month)[1])
        try:
            return date(year, month, day) + timedelta(days=self.days)
        except OverflowError:  # beyond the calendar: no period can outlast it
            return date.max


@dataclass(frozen=True)
class Parsed:
    """A right operand as written back (`wire`) and as evaluation uses it (`value`)."""

    wire: str | list[str]
    value: Any


def _text_value(raw: object) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise BadValue("must be a non-empty string")
    if len(raw) > MAX_TEXT:
        raise BadValue(f"must be at most {MAX_TEXT} characters")
    return raw.strip()


def _many(raw: object, operator: str, one: Callable[[object], str]) -> list[str]:
    """The values of a right operand: one string for eq and isPartOf, a non-empty list for isAnyOf."""
    if operator == "isAnyOf":
        if not isinstance(raw, list) or not raw:
            raise BadValue("isAnyOf takes a non-empty list")
        if len(raw) > MAX_VALUES:
            raise BadValue(f"at most {MAX_VALUES} values")
        return [one(item) for item in raw]
    if isinstance(raw, list):
        raise BadValue(f"{operator} takes one value, not a list")
    return [one(raw)]


def normal(text: str) -> str:
    """How two texts are compared: trimmed, case-folded, inner spaces collapsed."""
    return " ".join(text.split()).casefold()


def _wire(values: list[str], operator: str) -> str | list[str]:
    return values if operator == "isAnyOf" else values[0]


def parse_text(raw: object, operator: str) -> Parsed:
    """Purposes and scenarios: compared without regard to case or spacing."""
    values = _many(raw, operator, _text_value)
    return Parsed(_wire(values, operator), frozenset(normal(v) for v in values))


def _choice(choices: tuple[str, ...]) -> Callable[[object], str]:
    def one(raw: object) -> str:
        """The value itself, if it is one of the choices."""
        if raw not in choices:
            raise BadValue(f"{raw!r} is not one of {', '.join(choices)}")
        return str(raw)

    return one


def parse_use_category(raw: object, operator: str) -> Parsed:
    """public_welfare or industry."""
    values = _many(raw, operator, _choice(USE_CATEGORIES))
    return Parsed(_wire(values, operator), frozenset(values))


def parse_contract(raw: object, operator: str) -> Parsed:
    """One of the national model contracts."""
    values = _many(raw, operator, _choice(MODEL_CONTRACTS))
    return Parsed(values[0], values[0])


def parse_date(raw: object, operator: str) -> Parsed:
    """A calendar date, YYYY-MM-DD."""
    try:
        if not isinstance(raw, str) or len(raw) != 10:
            raise ValueError(raw)
        day = date.fromisoformat(raw)
    except ValueError:
        raise BadValue("must be a date, YYYY-MM-DD") from None
    return Parsed(day.isoformat(), day)


def parse_duration(raw: object, operator: str) -> Parsed:
    """An ISO 8601 duration of years, months, weeks and days (P1Y, P6M, P90D)."""
    found = DURATION.match(raw) if isinstance(raw, str) else None
    if found is None or raw == "P":
        raise BadValue("must be an ISO 8601 duration of years, months, weeks or days, such as P1Y or P90D")
    years, months, weeks, days = (int(part or 0) for part in found.groups())
    if years + months + weeks + days == 0:
        raise BadValue("must be longer than nothing")
    assert isinstance(raw, str)
    return Parsed(raw, Duration(raw, years, months, days + 7 * weeks))


def _region(raw: object) -> str:
    if not isinstance(raw, str) or not REGION.match(raw) or raw.startswith("00"):
        raise BadValue("must be a 6-digit GB/T 2260 region code, such as 440100")
    return raw


def region_prefix(code: str) -> str:
    """The part of a region code its subregions share: 440000 -> 44, 440100 -> 4401, 440106 -> 440106."""
    for size in (2, 4):
        if code[size:] == "0" * (6 - size):
            return code[:size]
    return code


def parse_region(raw: object, operator: str) -> Parsed:
    """Region codes: eq names one region exactly; isPartOf and isAnyOf accept any place inside them."""
    values = _many(raw, operator, _region)
    if operator == "eq":
        return Parsed(values[0], (values[0],))
    return Parsed(_wire(values, operator), tuple(region_prefix(v) for v in values))


def parse_count(raw: object, operator: str) -> Parsed:
    """A positive whole number (a number or its digits as a string)."""
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise BadValue("must be a whole number")
    text = str(raw)
    if not text.isdigit() or not 1 <= int(text) <= MAX_COUNT:
        raise BadValue(f"must be a whole number from 1 to {MAX_COUNT}")
    return Parsed(str(int(text)), int(text))


def parse_amount(raw: object, operator: str) -> Parsed:
    """A fee in CNY, above zero, with at most two decimals (a number or a string)."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise BadValue("must be an amount of CNY")
    try:
        amount = Decimal(str(raw))
    except InvalidOperation:
        raise BadValue("must be an amount of CNY, such as 500.00") from None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")) or amount >= 10**12:
        raise BadValue("must be an amount of CNY above 0, with at most two decimals")
    amount = amount.quantize(Decimal("0.01"))
    return Parsed(str(amount), amount)


PARSERS: dict[str, Callable[[object, str], Parsed]] = {
    "text": parse_text,
    "use_category": parse_use_category,
    "contract": parse_contract,
    "date": parse_date,
    "duration": parse_duration,
    "region": parse_region,
    "count": parse_count,
    "amount": parse_amount,
}
