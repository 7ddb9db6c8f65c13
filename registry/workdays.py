"""Working-day arithmetic on the mainland China calendar (weekends, public holidays and 调休 make-up days).

The official table comes from the ``chinesecalendar`` package, which covers a fixed range of years
(2004-2026 in version 1.11) and raises ``NotImplementedError`` outside it. The operator may supply a table of
extra holidays and extra working days (`load_holiday_table`); an entry there always wins over the package.

For a year the package does not cover, a day the operator's table does not mention is taken to be a working
day exactly when it falls on Monday to Friday. Every date computed here comes back as a `DateResult` whose
``fallback_years`` lists the years in which such a guess was made for a day that was examined, so a caller can
warn that a deadline may move once the State Council publishes that year's holidays.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import chinese_calendar

_ONE_DAY = timedelta(days=1)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class DateResult:
    """A computed date and the years for which the weekday fallback (not an official table) was used."""

    date: date
    fallback_years: tuple[int, ...] = ()

    @property
    def used_fallback(self) -> bool:
        """Tell whether any day examined lay in a year without an official holiday table."""
        return bool(self.fallback_years)


class WorkingCalendar:
    """Decides working days from the official table, overridden by an operator-supplied table."""

    def __init__(
        self,
        extra_holidays: Iterable[date] = (),
        extra_workdays: Iterable[date] = (),
    ) -> None:
        """Build a calendar; the operator's holidays and working days must not overlap."""
        self.extra_holidays = frozenset(_plain_date(d, "extra_holidays") for d in extra_holidays)
        self.extra_workdays = frozenset(_plain_date(d, "extra_workdays") for d in extra_workdays)
        both = sorted(self.extra_holidays & self.extra_workdays)
        if both:
            listed = ", ".join(d.isoformat() for d in both)
            raise ValueError(f"dates listed both as holidays and as working days: {listed}")

    def _decide(self, d: date) -> tuple[bool, bool]:
        """Return (is a working day, decided by the weekday fallback)."""
        if d in self.extra_workdays:
            return True, False
        if d in self.extra_holidays:
            return False, False
        try:
            return bool(chinese_calendar.is_workday(d)), False
        except NotImplementedError:
            return d.weekday() < 5, True

    def is_working_day(self, d: date) -> bool:
        """Tell whether ``d`` is a working day."""
        return self._decide(_plain_date(d, "d"))[0]

    def add_working_days(self, start: date, n: int) -> DateResult:
        """Return the n-th working day, counting the first working day on or after ``start`` as day 1."""
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        d = _plain_date(start, "start")
        fallback: set[int] = set()
        counted = 0
        while True:
            working, guessed = self._decide(d)
            if guessed:
                fallback.add(d.year)
            if working:
                counted += 1
                if counted == n:
                    return DateResult(d, tuple(sorted(fallback)))
            d += _ONE_DAY

    def next_working_day_after(self, d: date) -> DateResult:
        """Return the first working day strictly after ``d``."""
        return self.add_working_days(_plain_date(d, "d") + _ONE_DAY, 1)

    def working_days_after(self, start: date, n: int) -> DateResult:
        """Return the date n working days after ``start``, ``start`` itself not counted."""
        return self.add_working_days(_plain_date(start, "start") + _ONE_DAY, n)


def _plain_date(value: date, name: str) -> date:
    # A datetime is a date subclass that never equals a date, so set look-ups would silently miss; and
    # stored times are UTC, so the caller must convert to China time before taking the day.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a datetime.date (convert to Asia/Shanghai time first)")
    return value


def _parse_dates(path: Path, key: str, entries: object) -> set[date]:
    if not isinstance(entries, list):
        raise ValueError(f"{path}: {key!r} must be a list of YYYY-MM-DD strings")
    parsed: set[date] = set()
    for i, entry in enumerate(entries):
        where = f"{path}: {key}[{i}]"
        # date.fromisoformat also takes forms like 20270101 or 2027-W01-1; one spelling keeps files diffable.
        if not isinstance(entry, str) or not _ISO_DATE.fullmatch(entry):
            raise ValueError(f"{where} must be a date written YYYY-MM-DD, got {entry!r}")
        try:
            parsed.add(date.fromisoformat(entry))
        except ValueError:
            raise ValueError(f"{where}: {entry!r} is not a real calendar date") from None
    return parsed


def load_holiday_table(path: Path) -> tuple[set[date], set[date]]:
    """Read an operator's ``{"holidays": [...], "workdays": [...]}`` JSON file into (holidays, workdays)."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text") from None
    if not isinstance(document, dict):
        raise ValueError(f'{path}: expected an object like {{"holidays": [...], "workdays": [...]}}')
    unknown = sorted(set(document) - {"holidays", "workdays"})
    if unknown:
        raise ValueError(f"{path}: unknown key(s) {', '.join(map(repr, unknown))}; expected holidays, workdays")
    holidays = _parse_dates(path, "holidays", document.get("holidays", []))
    workdays = _parse_dates(path, "workdays", document.get("workdays", []))
    both = sorted(holidays & workdays)
    if both:
        listed = ", ".join(d.isoformat() for d in both)
        raise ValueError(f"{path}: dates listed both as holidays and as workdays: {listed}")
    return holidays, workdays
