"""The operators' review queue: registrations waiting for a step only the registry's staff take, soonest deadline first.

A submitted application waits to be accepted, returned or refused by its `accept_by` day; an accepted one waits for
its formal review, which has no deadline of its own and so comes after those that have one; one held by an objection
waits for its decision before its notice ends. A deadline before today (in China) is overdue, as the API's
`overdue=true` worklist counts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, case, func
from sqlmodel import Session, col, select

from registry.deadlines import china_date
from registry.enums import RegistrationState
from registry.models import DataProduct, DataResource, Entity, Registration
from registry.workflow import STEPS
from storage.db import now_of

QUEUE_PAGE = 25
# The states in which a staff step is the next one.
WAITING = tuple(sorted({state.value for step in STEPS.values() if step.by == "staff" for state in step.from_states}))
_FAR = date(9999, 12, 31)


@dataclass(frozen=True)
class QueueRow:
    """One registration in the queue: what it is, whose, its state, its deadline and whether that has passed."""

    registration: Registration
    entity_name: str
    subject_name: str
    deadline: date | None
    overdue: bool


@dataclass(frozen=True)
class Queue:
    """One page of the queue, with how many wait in all and how many of them are overdue."""

    rows: list[QueueRow]
    total: int
    overdue: int
    page: int
    pages: int
    today: date


def _deadline() -> ColumnElement[Any]:
    """The column a registration's queue position is read from: the day its current step is due."""
    return case(
        (col(Registration.state) == RegistrationState.submitted.value, col(Registration.accept_by)),
        (col(Registration.state) == RegistrationState.objection.value, col(Registration.notice_ends_on)),
        else_=None,
    )


def _subject_names(session: Session, registrations: list[Registration]) -> dict[str, str]:
    """The names of the registrations' resources and products, by id."""
    ids = {r.subject_id for r in registrations}
    names: dict[str, str] = {}
    for table in (DataResource, DataProduct):
        names.update(session.exec(select(table.id, table.name).where(col(table.id).in_(ids))).all())
    return names


def review_queue(session: Session, page: int) -> Queue:
    """A page (from 1) of the registrations waiting for the staff, soonest deadline first, overdue ones counted."""
    today = china_date(now_of(session))
    due = _deadline()
    waiting = col(Registration.state).in_(WAITING)
    total, overdue = session.exec(
        select(func.count(), func.count(case((due < today, 1)))).select_from(Registration).where(waiting)
    ).one()
    pages = max(1, -(-int(total) // QUEUE_PAGE))
    page = min(max(page, 1), pages)
    rows = session.exec(
        select(Registration, Entity.name, due)
        .join(Entity, col(Entity.id) == Registration.entity_id)
        .where(waiting)
        .order_by(func.coalesce(due, _FAR), col(Registration.submitted_at), col(Registration.id))
        .offset((page - 1) * QUEUE_PAGE)
        .limit(QUEUE_PAGE)
    ).all()
    names = _subject_names(session, [r for r, _, _ in rows])
    shown = []
    for registration, entity_name, deadline in rows:
        name = str(registration.changes.get("name") or names.get(registration.subject_id, registration.subject_id))
        shown.append(QueueRow(registration, entity_name, name, deadline, deadline is not None and deadline < today))
    return Queue(shown, int(total), int(overdue), page, pages, today)
