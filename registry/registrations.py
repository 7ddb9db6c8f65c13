"""The registration procedure: apply, accept, review, public notice, objections, registered.

Every step checks, in this order, that the caller may see the registration (else 404), that the caller's
role may take the step (403), and that the current state allows it (409 naming the steps allowed now).
Each step is one transaction that writes the new state under a version check, the history row, the public
registry event and the audit row together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from auth import audit
from auth.caller import SYSTEM, Caller
from auth.models import Role
from registry import events
from registry.access import is_member, may_read_private
from registry.codes import make_registration_code, new_query_code
from registry.config import RegistrySettings
from registry.counters import next_value
from registry.deadlines import accept_by, china_date, notice_period, working_calendar
from registry.enums import (
    FINAL_STATES,
    EntityStatus,
    ObjectionState,
    RegistrationState,
    RegistrationType,
    SubjectStatus,
    SubjectType,
)
from registry.exceptions import ConcurrentUpdate, StepNotAllowed
from registry.models import (
    DataResource,
    Entity,
    Objection,
    Registration,
    RegistrationStep,
    SubjectVersion,
)
from registry.schemas import ProductFields, RegistrationCreate, ResourceFields
from registry.subjects import Subject, column_value, load_subject, product_fields, resource_fields, validate_fields
from registry.workdays import DateResult
from storage.db import now_of, upgrade_to_write
from storage.exceptions import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from storage.pagination import PageOf, paginate_by_id

S = RegistrationState


@dataclass(frozen=True)
class Step:
    """A workflow step: the states it leaves from and who may take it."""

    name: str
    from_states: frozenset[RegistrationState]
    by: str  # "registrant" or "staff"


STEPS: dict[str, Step] = {
    step.name: step
    for step in (
        Step("submit", frozenset({S.draft, S.returned}), "registrant"),
        Step("withdraw", frozenset({S.draft, S.submitted, S.returned, S.accepted}), "registrant"),
        Step("return", frozenset({S.submitted}), "staff"),
        Step("accept", frozenset({S.submitted}), "staff"),
        Step("refuse", frozenset({S.submitted, S.accepted}), "staff"),
        Step("pass-review", frozenset({S.accepted}), "staff"),
        Step("resolve-objection", frozenset({S.objection}), "staff"),
    )
}


def steps_allowed_in(state: str) -> list[str]:
    """Every step the state allows, whoever takes it."""
    return [name for name, step in STEPS.items() if state in step.from_states]


def steps_allowed_for(caller: Caller, registration: Registration) -> list[str]:
    """The steps this caller may take now."""
    return [
        name for name in steps_allowed_in(registration.state) if _may_take(caller, STEPS[name], registration.entity_id)
    ]


def _may_take(caller: Caller, step: Step, entity_id: str) -> bool:
    return caller.is_staff if step.by == "staff" else is_member(caller, entity_id)


# ---------------------------------------------------------------- reading


def visible_registration(session: Session, caller: Caller, registration_id: str) -> Registration:
    """A registration its entity's members or the registry's staff may see; 404 for anyone else."""
    registration = session.get(Registration, registration_id)
    if registration is None or not may_read_private(caller, registration.entity_id):
        raise NotFound("no such registration")
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
    changes: dict[str, Any] = {}
    if data.type == RegistrationType.first:
        if subject.status != SubjectStatus.draft:
            raise Conflict(f"the {subject_type.value} is {subject.status}; a first registration needs a draft")
        if data.changes:
            raise InvalidInput("a first registration carries no changes", errors=[FieldProblem("changes", "empty")])
    else:
        if subject.status != SubjectStatus.registered:
            raise Conflict(f"a {data.type.value} registration needs a registered {subject_type.value}")
        if data.type == RegistrationType.cancellation:
            if data.changes:
                raise InvalidInput("a cancellation carries no changes", errors=[FieldProblem("changes", "empty")])
        else:
            if not data.changes:
                raise InvalidInput(
                    f"a {data.type.value} registration lists the fields it changes",
                    errors=[FieldProblem("changes", "required")],
                )
            changes = _validated_changes(subject, data.changes)
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
    registration = Registration(
        type=data.type,
        subject_type=subject_type,
        subject_id=subject.id,
        entity_id=subject.entity_id,
        changes=changes,
        created_by=caller.account_id,
    )
    try:
        session.add(registration)
        session.flush()
        _add_step(session, registration, caller, "create", None, S.draft, None, {})
        audit.record(session, caller, "registration.create", f"registration:{registration.id}")
        session.commit()
    except IntegrityError as exc:
        # The partial unique index on open registrations decided a race the check above could not see.
        session.rollback()
        raise Conflict(f"the {subject_type.value} already has an open registration") from exc
    return registration


# ---------------------------------------------------------------- steps


def _add_step(
    session: Session,
    registration: Registration,
    caller: Caller,
    action: str,
    from_state: str | None,
    to_state: str,
    reason: str | None,
    details: dict[str, Any],
    log_index: int | None = None,
) -> None:
    session.add(
        RegistrationStep(
            registration_id=registration.id,
            action=action,
            from_state=from_state,
            to_state=to_state,
            actor_id=caller.account_id,
            actor_name=caller.name,
            reason=reason,
            details=details,
            at=now_of(session),
            log_index=log_index,
        )
    )


def _transition(
    session: Session,
    registration: Registration,
    caller: Caller,
    action: str,
    to_state: RegistrationState,
    *,
    step_reason: str | None = None,
    details: dict[str, Any] | None = None,
    **values: Any,
) -> Registration:
    """Move to a new state under a version check; exactly one of two concurrent writers wins."""
    now = now_of(session)
    from_state = registration.state
    expected = registration.version
    result = session.execute(
        update(Registration)
        .where(col(Registration.id) == registration.id, col(Registration.version) == expected)
        .values(state=to_state.value, version=expected + 1, updated_at=now, **values)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise ConcurrentUpdate()
    session.refresh(registration)
    _log_step(session, registration, caller, action, from_state, to_state, step_reason, details)
    return registration


def _log_step(
    session: Session,
    registration: Registration,
    caller: Caller,
    action: str,
    from_state: str,
    to_state: str,
    reason: str | None,
    details: dict[str, Any] | None,
) -> None:
    """Record a step: its public log event, its history row and its audit row, all in this transaction."""
    log_index = events.emit(
        session,
        f"registration.{action}",
        f"registration:{registration.id}",
        {
            "registration_id": registration.id,
            "type": registration.type,
            "subject_type": registration.subject_type,
            "subject_id": registration.subject_id,
            "from": from_state,
            "to": to_state,
            **({"code": registration.code} if registration.code else {}),
        },
    )
    _add_step(session, registration, caller, action, from_state, to_state, reason, dict(details or {}), log_index)
    if caller is not SYSTEM:
        audit.record(session, caller, f"registration.{action}", f"registration:{registration.id}")


def _check_step(caller: Caller, registration: Registration, action: str) -> None:
    step = STEPS.get(action)
    if step is None:
        raise NotFound(f"no workflow step named {action!r}; steps: {', '.join(STEPS)}")
    if not _may_take(caller, step, registration.entity_id):
        who = "the registry's staff" if step.by == "staff" else "the registrant entity's own accounts"
        raise Forbidden(f"'{action}' is taken by {who}")
    if registration.state not in step.from_states:
        raise StepNotAllowed(action, registration.state, steps_allowed_for(caller, registration))


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
    _check_step(caller, registration, action)
    if action == "submit":
        return _submit(session, caller, settings, registration, reason, changes)
    if action == "withdraw":
        _transition(session, registration, caller, action, S.withdrawn, step_reason=reason)
    elif action == "return":
        items = [item.strip() for item in (missing_items or []) if item.strip()]
        if not items:
            raise InvalidInput(
                "a return lists every missing item at once",
                errors=[FieldProblem("missing_items", "at least one item")],
            )
        _transition(
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
        _transition(session, registration, caller, action, S.accepted, step_reason=reason, accepted_at=now)
    elif action == "refuse":
        text = _require_reason(reason, action)
        target = S.not_accepted if registration.state == S.submitted else S.refused
        _transition(session, registration, caller, action, target, step_reason=text, reason=text)
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
    _transition(
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
        _transition(session, registration, caller, "pass-review", S.notice, step_reason=reason, review_passed_at=now)
        _complete(session, settings, registration)
        return
    start, end = period
    _transition(
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


# ---------------------------------------------------------------- completion


def _apply_to_subject(session: Session, registration: Registration) -> None:
    """Make the registered state of the subject real, keeping each registered version readable."""
    now = now_of(session)
    subject = load_subject(session, SubjectType(registration.subject_type), registration.subject_id)
    if registration.type == RegistrationType.cancellation:
        subject.status = SubjectStatus.cancelled
        # Imported here: certificates build on the registry's reads, and its rights end with the subject.
        from registry.certificates import revoke_for_cancelled_subject

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


def _complete(session: Session, settings: RegistrySettings, registration: Registration) -> None:
    """Registered: a registration code, a result query code, and the subject updated."""
    now = now_of(session)
    today = china_date(now)
    serial = next_value(session, f"registration:{today.year}")
    code = make_registration_code(today.year, settings.registry_code, serial)
    try:
        valid_until = today.replace(year=today.year + settings.registration_validity_years)
    except ValueError:  # 29 February
        valid_until = today.replace(year=today.year + settings.registration_validity_years, day=28)
    _apply_to_subject(session, registration)
    _transition(
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


def _has_open_objection(session: Session, registration_id: str) -> bool:
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
    if _has_open_objection(session, registration.id):
        return False
    if not session.info.get("write"):
        upgrade_to_write(session)
        session.refresh(registration)  # another request may have completed it meanwhile
        return complete_if_due(session, settings, registration)
    _complete(session, settings, registration)
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


# ---------------------------------------------------------------- objections


def file_objection(
    session: Session, caller: Caller, settings: RegistrySettings, registration_id: str, reason: str
) -> Objection:
    """Any signed-in account objects to a registration while its notice runs."""
    now = now_of(session)
    today = china_date(now)
    registration = session.get(Registration, registration_id)
    if registration is None or (
        registration.notice_starts_on is None and not may_read_private(caller, registration.entity_id)
    ):
        raise NotFound("no such registration in public notice")
    complete_if_due(session, settings, registration)
    starts, ends = registration.notice_starts_on, registration.notice_ends_on
    in_notice = registration.state in (S.notice, S.objection)
    if not in_notice or starts is None or ends is None or not starts <= today <= ends:
        when = f"from {starts} to {ends}" if starts and ends else "only during the public notice"
        raise Conflict(
            f"objections are accepted only during the public notice ({when}); today is {today}",
            errors=[FieldProblem("notice_ends_on", f"the notice runs {when}")],
        )
    assert caller.account_id is not None
    objection = Objection(registration_id=registration.id, filed_by=caller.account_id, reason=reason, filed_at=now)
    session.add(objection)
    session.flush()
    if registration.state == S.notice:
        _transition(session, registration, caller, "object", S.objection, details={"objection_id": objection.id})
    else:
        _log_step(
            session, registration, caller, "object", S.objection, S.objection, None, {"objection_id": objection.id}
        )
    session.commit()
    return objection


def resolve_objection(
    session: Session,
    caller: Caller,
    settings: RegistrySettings,
    registration_id: str,
    objection_id: str,
    decision: str,
    reason: str,
) -> Registration:
    """Uphold an objection (the registration is refused) or dismiss it (the procedure goes on)."""
    now = now_of(session)
    registration = visible_registration(session, caller, registration_id)
    _check_step(caller, registration, "resolve-objection")
    objection = session.get(Objection, objection_id)
    if objection is None or objection.registration_id != registration.id:
        raise InvalidInput("no such objection on this registration", errors=[FieldProblem("objection_id", "unknown")])
    if objection.state != ObjectionState.open:
        raise Conflict(f"the objection is already {objection.state}")
    objection.state = ObjectionState.upheld if decision == "uphold" else ObjectionState.dismissed
    objection.resolution = reason
    objection.resolved_by = caller.account_id
    objection.resolved_at = now
    session.add(objection)
    session.flush()
    details = {"objection_id": objection.id, "decision": decision}
    if decision == "uphold":
        _transition(
            session,
            registration,
            caller,
            "resolve-objection",
            S.refused,
            step_reason=reason,
            details=details,
            reason=reason,
        )
    elif _has_open_objection(session, registration.id):
        _log_step(session, registration, caller, "resolve-objection", S.objection, S.objection, reason, details)
    else:
        _transition(session, registration, caller, "resolve-objection", S.notice, step_reason=reason, details=details)
        complete_if_due(session, settings, registration)
    session.commit()
    return registration
