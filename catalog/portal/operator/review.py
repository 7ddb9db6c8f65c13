"""A registration as the operator reviews it, and the objections waiting for a decision, read through the registry's
own use cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from auth.caller import Caller
from registry import objections, registrations, workflow
from registry.config import RegistrySettings
from registry.deadlines import china_date
from registry.entities import get_entity
from registry.enums import ObjectionState, RegistrationState, SubjectType
from registry.models import Certificate, Entity, Objection, Registration, RegistrationStep
from registry.schemas import ObjectionPublic
from registry.subjects import Subject, load_subject
from storage.db import now_of

OBJECTIONS_SHOWN = 100


@dataclass(frozen=True)
class Review:
    """A registration with its subject, its registrant, its history, its objections and the steps open to the caller."""

    registration: Registration
    subject: Subject
    entity: Entity
    history: list[RegistrationStep]
    objections: list[ObjectionPublic]
    allowed: list[str]
    calendar_note: str | None
    certificates: list[Certificate]
    overdue: bool


def review(session: Session, caller: Caller, settings: RegistrySettings, registration_id: str) -> Review:
    """What the review page shows; a notice that has ended completes on this read, as it does in the API."""
    registration = registrations.read_registration(session, caller, settings, registration_id)
    subject = load_subject(session, SubjectType(registration.subject_type), registration.subject_id)
    certificates = session.exec(
        select(Certificate).where(Certificate.registration_id == registration.id).order_by(col(Certificate.id))
    ).all()
    today = china_date(now_of(session))
    overdue = (
        registration.state == RegistrationState.submitted
        and registration.accept_by is not None
        and registration.accept_by < today
    )
    return Review(
        registration=registration,
        subject=subject,
        entity=get_entity(session, registration.entity_id),
        history=registrations.history(session, registration.id),
        objections=objections.shown_objections(session, caller, registration.id),
        allowed=workflow.steps_allowed_for(caller, registration),
        calendar_note=registrations.calendar_note(registration),
        certificates=list(certificates),
        overdue=overdue,
    )


@dataclass(frozen=True)
class OpenObjection:
    """An objection waiting for a decision, with the registration it holds."""

    objection: ObjectionPublic
    registration: Registration
    subject_name: str
    entity_name: str
    filed_at: datetime


def open_objections(session: Session, caller: Caller) -> list[OpenObjection]:
    """The objections no one has decided yet, oldest first, as the staff see them (with the objector)."""
    rows = session.exec(
        select(Objection, Registration, Entity.name)
        .join(Registration, col(Registration.id) == Objection.registration_id)
        .join(Entity, col(Entity.id) == Registration.entity_id)
        .where(Objection.state == ObjectionState.open.value)
        .order_by(col(Objection.filed_at), col(Objection.id))
        .limit(OBJECTIONS_SHOWN)
    ).all()
    found = []
    for objection, registration, entity_name in rows:
        subject = load_subject(session, SubjectType(registration.subject_type), registration.subject_id)
        name = str(registration.changes.get("name") or subject.name)
        shown = objections.present(objection, reveal=caller.is_staff)
        found.append(OpenObjection(shown, registration, name, entity_name, objection.filed_at))
    return found
