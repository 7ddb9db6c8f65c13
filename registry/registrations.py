"""The registration procedure: apply, submit, accept or return, review, and read where a registration stands.

Every step checks, in this order, that the caller may see the registration (else 404), that the caller's
role may take the step (403), and that the current state allows it (409 naming the steps allowed now).
Each step is one transaction that writes the new state under a version check, the history row, the public
registry event and the audit row together (see :mod:`registry.workflow`). The public notice's end is in
:mod:`registry.completion`, objections in :mod:`registry.objections`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from auth import audit
from auth.caller import Caller
from auth.roles import Role
from registry.access import is_member, may_read_private
from registry.completion import complete, complete_if_due
from registry.config import RegistrySettings
from registry.deadlines import accept_by, china_date, notice_period, working_calendar
from registry.enums import (
    FINAL_STATES,
    EntityStatus,
    RegistrationState,
    RegistrationType,
    SubjectStatus,
    SubjectType,
)
from registry.models import DataResource, Entity, Objection, Registration, RegistrationStep
from registry.schemas import ProductFields, RegistrationCreate, ResourceFields
from registry.subjects import Subject, load_subject, product_fields, resource_fields, validate_fields
from registry.workdays import DateResult
from registry.workflow import add_step, check_step, transition
from storage.db import now_of
from storage.exceptions import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from storage.pagination import PageOf, paginate_by_id

S = RegistrationState


# ---------------------------------------------------------------- reading


def visible_registration(session: Session, caller: Caller, registration_id: str) -> Registration:
    """A registration its entity's members or the registry's staff may see; 404 for anyone else."""
    registration = session.get(Registration, registration_id)
    if registration is None or not may_read_private(caller, registration.entity_id):
        raise NotFound("no such registration")
    return registration


def read_registration(
    session: Session, caller: Caller, settings: RegistrySettings, registration_id: str
) -> Registration:
    """A registration the caller may see; a notice that has ended completes on this read."""
    registration = visible_registration(session, caller, registration_id)
    complete_if_due(session, settings, registration)
    return registration


def history(session: Session, registration_id: str) -> list[RegistrationStep]:
    """The registration's steps, oldest first."""
    return list(
        session.exec(
            select(RegistrationStep)
            .where(RegistrationStep.registration_id == registration_id)
            .order_by(col(RegistrationStep.id))
        ).all()
    )


def objections(session: Session, registration_id: str) -> list[Objection]:
    """Objections filed against the registration, oldest first."""
    return list(
        session.exec(
            select(Objection).where(Objection.registration_id == registration_id).order_by(col(Objection.id))
        ).all()
    )


def calendar_note(registration: Registration) -> str | None:
    """A warning when a deadline was computed without the official holiday table."""
    years = registration.calendar_fallback_years
    if not years:
        return None
    listed = ", ".join(str(y) for y in years)
    return (
        f"the official holiday table does not cover {listed}; Monday to Friday was assumed, "
        "so a deadline may move once that year's holidays are published"
    )


def list_registrations(
    session: Session,
    caller: Caller,
    *,
    state: RegistrationState | None,
    overdue: bool,
    subject_id: str | None,
    limit: int,
    cursor: str | None,
) -> PageOf[Registration]:
    """Registrations the caller may see: staff see all, providers their entity's; overdue is for staff."""
    statement = select(Registration)
    if not caller.is_staff:
        if not caller.has_role(Role.provider) or not caller.entity_id or overdue:
            raise Forbidden("only the registry's staff list these registrations")
        statement = statement.where(Registration.entity_id == caller.entity_id)
    if state is not None:
        statement = statement.where(Registration.state == state)
    if subject_id:
        statement = statement.where(Registration.subject_id == subject_id)
    if overdue:
        today = china_date(now_of(session))
        statement = statement.where(Registration.state == S.submitted, col(Registration.accept_by) < today)
    return paginate_by_id(session, statement, Registration.id, limit=limit, cursor=cursor, newest_first=False)


# ---------------------------------------------------------------- creating


def _validated_changes(subject: Subject, changes: dict[str, Any]) -> dict[str, Any]:
    """Check proposed changes against the subject's schema; the whole record must stay valid."""
    fields_model = ResourceFields if isinstance(subject, DataResource) else ProductFields
    current = resource_fields(subject) if isinstance(subject, DataResource) else product_fields(subject)
    unknown = sorted(set(changes) - set(fields_model.model_fields))
    if unknown:
        raise InvalidInput(
            "unknown fields in changes: " + ", ".join(unknown),
            errors=[FieldProblem(f"changes.{name}", "not a field of the subject") for name in unknown],
        )
    merged = validate_fields(fields_model, {**current, **changes}, prefix="changes.")
    return {name: value for name, value in merged.items() if name in changes}


def _changes_for_type(subject: Subject, subject_type: SubjectType, data: RegistrationCreate) -> dict[str, Any]:
    """The changes an application of its type carries: none for a first or a cancellation, valid ones otherwise."""
    if data.type == RegistrationType.first:
        if subject.status != SubjectStatus.draft:
            raise Conflict(f"the {subject_type.value} is {subject.status}; a first registration needs a draft")
        if data.changes:
            raise InvalidInput("a first registration carries no changes", errors=[FieldProblem("changes", "empty")])
        return {}
    if subject.status != SubjectStatus.registered:
        raise Conflict(f"a {data.type.value} registration needs a registered {subject_type.value}")
    if data.type == RegistrationType.cancellation:
        if data.changes:
            raise InvalidInput("a cancellation carries no changes", errors=[FieldProblem("changes", "empty")])
        return {}
    if not data.changes:
        raise InvalidInput(
            f"a {data.type.value} registration lists the fields it changes",
            errors=[FieldProblem("changes", "required")],
        )
    return _validated_changes(subject, data.changes)


def create_registration(session: Session, caller: Caller, data: RegistrationCreate) -> Registration:
    """A draft application by a member of the subject's entity."""
    subject_type = SubjectType.resource if data.subject.resource_id else SubjectType.product
    subject_id = data.subject.resource_id or data.subject.product_id
    assert subject_id is not None
    subject = load_subject(session, subject_type, subject_id)
    if not is_member(caller, subject.entity_id):
        if may_read_private(caller, subject.entity_id) or subject.status != SubjectStatus.draft:
            raise Forbidden("only the registrant entity's own accounts apply for its registrations")
        raise NotFound(f"no such {subject_type.value}")
    changes = _changes_for_type(subject, subject_type, data)
    open_one = session.exec(
        select(Registration.id).where(
            Registration.subject_id == subject.id, col(Registration.state).not_in([s.value for s in FINAL_STATES])
        )
    ).first()
    if open_one is not None:
        raise Conflict(
            f"the {subject_type.value} already has an open registration ({open_one})",
            extra={"registration_id": open_one},
        )
    now = now_of(session)
    registration = Registration(
        type=data.type,
        subject_type=subject_type,
        subject_id=subject.id,
        entity_id=subject.entity_id,
        changes=changes,
        created_by=caller.account_id,
        created_at=now,
        updated_at=now,
    )
    try:
        session.add(registration)
        session.flush()
        add_step(session, registration, caller, "create", None, S.draft, None, {})
        audit.record(session, caller, "registration.create", f"registration:{registration.id}")
        session.commit()
    except IntegrityError as exc:
        # The partial unique index on open registrations decided a race the check above could not see.
        session.rollback()
        raise Conflict(f"the {subject_type.value} already has an open registration") from exc
    return registration


# ---------------------------------------------------------------- steps


def _require_reason(reason: str | None, action: str) -> str:
    if not reason or not reason.strip():
        raise InvalidInput(f"'{action}' states its reasons", errors=[FieldProblem("reason", "required")])
    return reason.strip()


def _fallback(*results: DateResult) -> list[int]:
    return sorted({year for result in results for year in result.fallback_years})


def take_step(
    session: Session,
    caller: Caller,
    settings: RegistrySettings,
    registration_id: str,
    action: str,
    *,
    reason: str | None = None,
    missing_items: list[str] | None = None,
    changes: dict[str, Any] | None = None,
) -> Registration:
    """Take one workflow step on a registration."""
    now = now_of(session)
    registration = visible_registration(session, caller, registration_id)
    complete_if_due(session, settings, registration)
    check_step(caller, registration, action)
    if action == "submit":
        return _submit(session, caller, settings, registration, reason, changes)
    if action == "withdraw":
        transition(session, registration, caller, action, S.withdrawn, step_reason=reason)
    elif action == "return":
        items = [item.strip() for item in (missing_items or []) if item.strip()]
        if not items:
            raise InvalidInput(
                "a return lists every missing item at once",
                errors=[FieldProblem("missing_items", "at least one item")],
            )
        transition(
            session,
            registration,
            caller,
            action,
            S.returned,
            step_reason=reason,
            details={"missing_items": items},
            missing_items=items,
            reason=reason,
        )
    elif action == "accept":
        transition(session, registration, caller, action, S.accepted, step_reason=reason, accepted_at=now)
    elif action == "refuse":
        text = _require_reason(reason, action)
        target = S.not_accepted if registration.state == S.submitted else S.refused
        transition(session, registration, caller, action, target, step_reason=text, reason=text)
    elif action == "pass-review":
        _pass_review(session, caller, settings, registration, reason)
    session.commit()
    return registration


def _submit(
    session: Session,
    caller: Caller,
    settings: RegistrySettings,
    registration: Registration,
    reason: str | None,
    changes: dict[str, Any] | None,
) -> Registration:
    """Submit or resubmit: the acceptance clock starts again from now."""
    now = now_of(session)
    entity = session.get(Entity, registration.entity_id)
    assert entity is not None
    if entity.status != EntityStatus.verified:
        raise Conflict(f"the entity is {entity.status}; it must be verified before it submits registrations")
    values: dict[str, Any] = {}
    if changes is not None:
        if registration.type not in (RegistrationType.change, RegistrationType.correction) or not changes:
            raise InvalidInput(
                "only change and correction registrations carry changes",
                errors=[FieldProblem("changes", "not allowed here")],
            )
        subject = load_subject(session, SubjectType(registration.subject_type), registration.subject_id)
        values["changes"] = _validated_changes(subject, changes)
    deadline = accept_by(working_calendar(session, settings), settings, now)
    resubmission = registration.state == S.returned
    transition(
        session,
        registration,
        caller,
        "submit",
        S.submitted,
        step_reason=reason,
        details={"resubmission": resubmission, "accept_by": deadline.date.isoformat()},
        submitted_at=now,
        accept_by=deadline.date,
        missing_items=[],
        calendar_fallback_years=_fallback(deadline),
        **values,
    )
    session.commit()
    return registration


def _pass_review(
    session: Session, caller: Caller, settings: RegistrySettings, registration: Registration, reason: str | None
) -> None:
    """Formal review passed: the public notice is scheduled, or, with no notice, registration completes."""
    now = now_of(session)
    period = notice_period(working_calendar(session, settings), settings, now)
    if period is None:
        transition(session, registration, caller, "pass-review", S.notice, step_reason=reason, review_passed_at=now)
        complete(session, settings, registration)
        return
    start, end = period
    transition(
        session,
        registration,
        caller,
        "pass-review",
        S.notice,
        step_reason=reason,
        details={"notice_starts_on": start.date.isoformat(), "notice_ends_on": end.date.isoformat()},
        review_passed_at=now,
        notice_starts_on=start.date,
        notice_ends_on=end.date,
        calendar_fallback_years=sorted(set(registration.calendar_fallback_years) | set(_fallback(start, end))),
    )
