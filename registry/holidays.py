"""The operators' holiday table: the days they declare holidays or working days, on top of the official calendar.

Deadlines read it through :func:`registry.deadlines.working_calendar`; here it is read and replaced a year at a
time.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, and_
from sqlmodel import Session, col, delete, select

from auth import audit
from auth.caller import Caller
from registry.models import CalendarOverride
from registry.schemas import YEAR_MAX, YEAR_MIN, CalendarYear
from storage.exceptions import FieldProblem, Forbidden, InvalidInput

HOLIDAY = "holiday"
WORKDAY = "workday"


def _in_year(year: int) -> ColumnElement[bool]:
    if not YEAR_MIN <= year <= YEAR_MAX:  # a date cannot hold it
        raise InvalidInput(
            f"no calendar for year {year}", errors=[FieldProblem("year", f"must be between {YEAR_MIN} and {YEAR_MAX}")]
        )
    day = col(CalendarOverride.day)
    return and_(day >= date(year, 1, 1), day <= date(year, 12, 31))


def read_year(session: Session, year: int) -> CalendarYear:
    """The operators' holiday table for a year."""
    rows = session.exec(select(CalendarOverride).where(_in_year(year))).all()
    return CalendarYear(
        holidays=sorted(r.day for r in rows if r.kind == HOLIDAY),
        workdays=sorted(r.day for r in rows if r.kind == WORKDAY),
    )


def _check(year: int, table: CalendarYear) -> None:
    """Refuse days outside the year and days listed both as a holiday and as a working day."""
    problems = [
        FieldProblem(f"{kind}[{i}]", f"{day} is not in {year}")
        for kind, days in (("holidays", table.holidays), ("workdays", table.workdays))
        for i, day in enumerate(days)
        if day.year != year
    ]
    both = sorted(set(table.holidays) & set(table.workdays))
    problems += [FieldProblem("workdays", f"{day} is also listed as a holiday") for day in both]
    if problems:
        raise InvalidInput("the holiday table is not valid", errors=problems)


def replace_year(session: Session, caller: Caller, year: int, table: CalendarYear) -> CalendarYear:
    """Staff replace the operators' holiday table for a year (on top of the official one)."""
    if not caller.is_staff:
        raise Forbidden("only the registry's staff change the holiday table")
    in_year = _in_year(year)
    _check(year, table)
    holidays, workdays = sorted(set(table.holidays)), sorted(set(table.workdays))
    session.execute(delete(CalendarOverride).where(in_year))
    for day in holidays:
        session.add(CalendarOverride(day=day, kind=HOLIDAY))
    for day in workdays:
        session.add(CalendarOverride(day=day, kind=WORKDAY))
    audit.record(session, caller, "calendar.replace", f"calendar:{year}")
    session.commit()
    return CalendarYear(holidays=holidays, workdays=workdays)
