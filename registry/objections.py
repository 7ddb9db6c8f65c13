"""Objections to a registration in public notice: filed by anyone, decided by the registry's staff.

An objection filed during the notice holds the registration in ``objection`` until every objection is
decided: one upheld refuses the registration, and once all are dismissed the notice goes on (completing at
once if it has ended meanwhile). Without an account an objector gives a name and a contact, which only the
staff see, and may file only so many objections an hour from one address.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from auth.caller import Caller
from registry.access import may_read_private
from registry.completion import complete_if_due, has_open_objection
from registry.config import RegistrySettings
from registry.deadlines import china_date
from registry.enums import ObjectionState, RegistrationState
from registry.models import Objection, Registration
from registry.registrations import objections, visible_registration
from registry.schemas import ObjectionCreate, ObjectionPublic
from registry.workflow import check_step, log_step, transition
from storage.db import now_of
from storage.exceptions import Conflict, FieldProblem, InvalidInput, NotFound, TooManyRequests

S = RegistrationState


def file_objection(
    session: Session, caller: Caller, settings: RegistrySettings, registration_id: str, body: ObjectionCreate
) -> Objection:
    """Anyone objects to a registration while its notice runs; without an account, with a name and contact."""
    objection = _new_objection(caller, body)
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
    if objection.filed_by is None:
        _check_anonymous_rate(session, settings, objection.filed_from, now)
    objection.registration_id, objection.filed_at = registration.id, now
    session.add(objection)
    session.flush()
    if registration.state == S.notice:
        transition(session, registration, caller, "object", S.objection, details={"objection_id": objection.id})
    else:
        log_step(
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
    check_step(caller, registration, "resolve-objection")
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
        transition(
            session,
            registration,
            caller,
            "resolve-objection",
            S.refused,
            step_reason=reason,
            details=details,
            reason=reason,
        )
    elif has_open_objection(session, registration.id):
        log_step(session, registration, caller, "resolve-objection", S.objection, S.objection, reason, details)
    else:
        transition(session, registration, caller, "resolve-objection", S.notice, step_reason=reason, details=details)
        complete_if_due(session, settings, registration)
    session.commit()
    return registration


def _new_objection(caller: Caller, body: ObjectionCreate) -> Objection:
    """The objection's row before it is placed: an account's, or an anonymous one with its name and contact."""
    objection = Objection(
        registration_id="", reason=body.reason, objector_name=body.name, objector_contact=body.contact
    )
    if not caller.is_anonymous:
        objection.filed_by = caller.account_id
        return objection
    missing = [FieldProblem(f, "required without an account") for f in ("name", "contact") if not getattr(body, f)]
    if missing:
        raise InvalidInput("an objection without an account needs the objector's name and contact", errors=missing)
    objection.filed_from = (caller.client_addr or "-")[:64]
    return objection


def _check_anonymous_rate(session: Session, settings: RegistrySettings, address: str | None, now: datetime) -> None:
    """Refuse an anonymous objection past the hourly limit of its address, saying when the next one may come."""
    since = now - timedelta(hours=1)
    count, oldest = session.exec(
        select(func.count(), func.min(Objection.filed_at)).where(
            col(Objection.filed_by).is_(None), Objection.filed_from == address, col(Objection.filed_at) > since
        )
    ).one()
    limit = settings.anonymous_objections_per_hour
    if count >= limit:
        wait = max(1, math.ceil((oldest - since).total_seconds()))
        raise TooManyRequests(
            f"at most {limit} objections an hour may be filed without an account from one address; sign in, "
            f"or try again in {wait} seconds",
            headers={"Retry-After": str(wait)},
        )


def present(objection: Objection, *, reveal: bool) -> ObjectionPublic:
    """An objection as the API shows it; who filed it only when `reveal` (the staff, or the objector's receipt)."""
    fields = ("id", "registration_id", "reason", "state", "resolution", "filed_at", "resolved_at")
    shown = ObjectionPublic.model_validate(
        {name: getattr(objection, name) for name in fields} | {"anonymous": objection.filed_by is None}
    )
    if reveal:
        shown.filed_by = objection.filed_by
        shown.objector_name, shown.objector_contact = objection.objector_name, objection.objector_contact
    return shown


def shown_objections(session: Session, caller: Caller, registration_id: str) -> list[ObjectionPublic]:
    """The objections to a registration the caller may see: all for the staff, else those filed with an account."""
    return [
        present(objection, reveal=caller.is_staff)
        for objection in objections(session, registration_id)
        if caller.is_staff or objection.filed_by is not None
    ]
