"""Completion of a registration: once its public notice ends with no open objection, it is registered.

Registering gives the registration its code and result query code and makes the registered state of its subject
real: a new readable version of the subject, or, for a cancellation, the subject cancelled and its certificates
revoked. Completion happens when someone next reads the registration or the notice board, or when
`pdr registry tick` runs.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from auth.caller import SYSTEM
from registry.certificates import revoke_for_cancelled_subject
from registry.codes import make_registration_code, new_query_code
from registry.config import RegistrySettings
from registry.counters import next_value
from registry.deadlines import china_date
from registry.enums import RegistrationState, RegistrationType, SubjectStatus, SubjectType
from registry.models import DataResource, Objection, Registration, SubjectVersion
from registry.subjects import column_value, load_subject, product_fields, resource_fields
from registry.workflow import transition
from storage.db import now_of, upgrade_to_write

S = RegistrationState


def _apply_to_subject(session: Session, registration: Registration) -> None:
    """Make the registered state of the subject real, keeping each registered version readable."""
    now = now_of(session)
    subject = load_subject(session, SubjectType(registration.subject_type), registration.subject_id)
    if registration.type == RegistrationType.cancellation:
        subject.status = SubjectStatus.cancelled
        # The subject's rights end with it.
        revoke_for_cancelled_subject(session, registration)
    else:
        for name, value in registration.changes.items():
            setattr(subject, name, column_value(name, value))
        subject.status = SubjectStatus.registered
        subject.revision += 1
        snapshot = resource_fields(subject) if isinstance(subject, DataResource) else product_fields(subject)
        session.add(
            SubjectVersion(
                subject_type=registration.subject_type,
                subject_id=subject.id,
                revision=subject.revision,
                registration_id=registration.id,
                snapshot={k: (v.isoformat() if isinstance(v, date) else v) for k, v in snapshot.items()},
                created_at=now,
            )
        )
    subject.updated_at = now
    session.add(subject)


def complete(session: Session, settings: RegistrySettings, registration: Registration) -> None:
    """Registered: a registration code, a result query code, and the subject updated (in the caller's transaction)."""
    now = now_of(session)
    today = china_date(now)
    serial = next_value(session, f"registration:{today.year}")
    code = make_registration_code(today.year, settings.registry_code, serial)
    try:
        valid_until = today.replace(year=today.year + settings.registration_validity_years)
    except ValueError:  # 29 February
        valid_until = today.replace(year=today.year + settings.registration_validity_years, day=28)
    _apply_to_subject(session, registration)
    transition(
        session,
        registration,
        SYSTEM,
        "register",
        S.registered,
        details={"code": code},
        code=code,
        query_code=new_query_code(),
        registered_at=now,
        valid_until=valid_until,
    )


def has_open_objection(session: Session, registration_id: str) -> bool:
    """Whether an objection to the registration still waits for the registry's decision."""
    return (
        session.exec(
            select(Objection.id).where(Objection.registration_id == registration_id, Objection.state == "open")
        ).first()
        is not None
    )


def _notice_over(registration: Registration, today: date) -> bool:
    return registration.notice_ends_on is not None and today > registration.notice_ends_on


def complete_if_due(session: Session, settings: RegistrySettings, registration: Registration) -> bool:
    """Complete a registration whose notice has ended with no open objection; commits when it does."""
    if registration.state != S.notice or not _notice_over(registration, china_date(now_of(session))):
        return False
    if has_open_objection(session, registration.id):
        return False
    if not session.info.get("write"):
        upgrade_to_write(session)
        session.refresh(registration)  # another request may have completed it meanwhile
        return complete_if_due(session, settings, registration)
    complete(session, settings, registration)
    session.commit()
    return True


def tick(session: Session, settings: RegistrySettings) -> list[str]:
    """Complete every registration whose notice is over; returns their ids (for `pdr registry tick`)."""
    today = china_date(now_of(session))
    due = session.exec(
        select(Registration.id).where(Registration.state == S.notice, col(Registration.notice_ends_on) < today)
    ).all()
    completed = []
    for registration_id in due:
        registration = session.get(Registration, registration_id)
        if registration is not None and complete_if_due(session, settings, registration):
            completed.append(registration_id)
    return completed
