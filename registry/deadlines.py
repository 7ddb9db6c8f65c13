"""Working-day deadlines of the procedure, on the official calendar plus the operators' own table."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from sqlmodel import Session, select

from registry.config import RegistrySettings
from registry.models import CalendarOverride
from registry.workdays import DateResult, WorkingCalendar, load_holiday_table

# Mainland China keeps one offset all year; deadlines are counted in its days, not in UTC days.
CHINA_TIME = timezone(timedelta(hours=8), "Asia/Shanghai")


def china_date(moment: datetime) -> date:
    """The calendar day in China at a moment."""
    return moment.astimezone(CHINA_TIME).date()


def china_midnight_utc(day: date) -> datetime:
    """The UTC moment at which a China calendar day begins."""
    return datetime(day.year, day.month, day.day, tzinfo=CHINA_TIME).astimezone(UTC)


def working_calendar(session: Session, settings: RegistrySettings) -> WorkingCalendar:
    """The official calendar, overridden by the settings' holiday table and then the operators' rows."""
    holidays: set[date] = set()
    workdays: set[date] = set()
    if settings.holiday_table is not None:
        holidays, workdays = load_holiday_table(settings.holiday_table)
    for row in session.exec(select(CalendarOverride)).all():
        holidays.discard(row.day)
        workdays.discard(row.day)
        (holidays if row.kind == "holiday" else workdays).add(row.day)
    return WorkingCalendar(extra_holidays=holidays, extra_workdays=workdays)


def accept_by(calendar: WorkingCalendar, settings: RegistrySettings, submitted_at: datetime) -> DateResult:
    """The last day to accept or return an application submitted at a moment."""
    return calendar.working_days_after(china_date(submitted_at), settings.accept_working_days)


def notice_period(
    calendar: WorkingCalendar, settings: RegistrySettings, review_passed_at: datetime
) -> tuple[DateResult, DateResult] | None:
    """First and last day of the public notice, from the working day after review; None when there is none."""
    if settings.notice_working_days == 0:
        return None
    start = calendar.next_working_day_after(china_date(review_passed_at))
    end = calendar.add_working_days(start.date, settings.notice_working_days)
    return start, end
