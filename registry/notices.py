"""The public notice board (公示): registrations in notice, showing only what the rules make public."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from registry.completion import tick
from registry.config import RegistrySettings
from registry.deadlines import china_date
from registry.enums import RegistrationState, RegistrationType
from registry.models import DataProduct, DataResource, Entity, Registration
from registry.schemas import NoticePublic
from storage.db import now_of
from storage.pages import Page
from storage.pagination import check_limit, decode_cursor, encode_cursor


def notice_board(session: Session, settings: RegistrySettings, *, limit: int, cursor: str | None) -> Page[NoticePublic]:
    """Registrations whose notice runs today, oldest notice first; ended notices complete first."""
    check_limit(limit)
    tick(session, settings)
    today = china_date(now_of(session))
    statement = (
        select(Registration, Entity.name)
        .join(Entity, col(Entity.id) == Registration.entity_id)
        .where(
            col(Registration.state).in_([RegistrationState.notice.value, RegistrationState.objection.value]),
            col(Registration.notice_starts_on) <= today,
            col(Registration.notice_ends_on) >= today,
        )
    )
    count = int(session.exec(select(func.count()).select_from(statement.subquery())).one())
    if cursor:
        after = decode_cursor(cursor).get("id")
        statement = statement.where(col(Registration.id) > str(after))
    rows = session.exec(statement.order_by(col(Registration.id)).limit(limit + 1)).all()
    items = []
    for registration, registrant_name in rows[:limit]:
        subject: DataResource | DataProduct | None = (
            session.get(DataResource, registration.subject_id)
            if registration.subject_type == "resource"
            else session.get(DataProduct, registration.subject_id)
        )
        assert subject is not None
        name = registration.changes.get("name", subject.name)
        summary = registration.changes.get("summary", subject.summary)
        assert registration.notice_starts_on is not None and registration.notice_ends_on is not None
        items.append(
            NoticePublic(
                id=registration.id,
                registrant_name=registrant_name,
                registration_type=RegistrationType(registration.type),
                data_name=name,
                summary=summary,
                notice_starts_on=registration.notice_starts_on,
                notice_ends_on=registration.notice_ends_on,
            )
        )
    next_cursor = encode_cursor({"id": rows[limit - 1][0].id}) if len(rows) > limit else None
    return Page[NoticePublic](items=items, count=count, next_cursor=next_cursor)
