"""The operators' dashboard in figures: registrations by month and by state, certificates, downloads by month.

Months are China calendar months; each month's count is one indexed range query, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import pairwise
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from catalog.exchange.models import DownloadRecord
from catalog.portal.charts import BarChart, bar_chart
from registry.certificate_credential import REVOKED_STATUS
from registry.deadlines import CHINA_TIME, china_date
from registry.enums import RegistrationState
from registry.models import Certificate, Registration
from storage.db import now_of

MONTHS = 12


@dataclass(frozen=True)
class Dashboard:
    """The figures the dashboard draws: each a series of (label or code, count)."""

    registrations_by_month: list[tuple[str, int]]
    registrations_by_state: list[tuple[str, int]]
    certificates: list[tuple[str, int]]
    downloads_by_month: list[tuple[str, int]]


def _month_starts(today: date, months: int) -> list[date]:
    """The first days of the last `months` months, oldest first, and of the month after this one."""
    firsts = []
    year, month = today.year, today.month
    for _ in range(months):
        firsts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    firsts.reverse()
    following = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    return [*firsts, following]


def _utc(day: date) -> datetime:
    """The UTC moment a China calendar day begins."""
    return datetime(day.year, day.month, day.day, tzinfo=CHINA_TIME).astimezone(UTC)


def _by_month(session: Session, column: Any, starts: list[date], *conditions: Any) -> list[tuple[str, int]]:
    """Rows counted in each month, from the list of month starts (the last one ends the last month)."""
    series = []
    for first, following in pairwise(starts):
        statement = select(func.count()).where(column >= _utc(first), column < _utc(following), *conditions)
        series.append((f"{first:%Y-%m}", int(session.exec(statement).one())))
    return series


def dashboard(session: Session) -> Dashboard:
    """The registry's activity: the last twelve months of applications and downloads, states and certificates now."""
    starts = _month_starts(china_date(now_of(session)), MONTHS)
    states = dict(session.exec(select(Registration.state, func.count()).group_by(col(Registration.state))).all())
    issued = int(session.exec(select(func.count()).select_from(Certificate)).one())
    revoked = int(session.exec(select(func.count()).where(Certificate.status == REVOKED_STATUS)).one())
    return Dashboard(
        registrations_by_month=_by_month(session, col(Registration.submitted_at), starts),
        registrations_by_state=[(state.value, int(states.get(state.value, 0))) for state in RegistrationState],
        certificates=[("issued", issued), ("revoked", revoked)],
        downloads_by_month=_by_month(session, col(DownloadRecord.at), starts, col(DownloadRecord.complete).is_(True)),
    )


def chart_of(series: Sequence[tuple[str, int]], names: Mapping[str, str] | None = None) -> BarChart:
    """A bar chart of a series, its codes named by the template's (translated) names."""
    names = names or {}
    return bar_chart([(names.get(code, code), value) for code, value in series])
