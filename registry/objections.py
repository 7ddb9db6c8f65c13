"""Objections to a registration in public notice: filed by anyone signed in, decided by the registry's staff.

An objection filed during the notice holds the registration in ``objection`` until every objection is
decided: one upheld refuses the registration, and once all are dismissed the notice goes on (completing at
once if it has ended meanwhile).
"""

from __future__ import annotations

from sqlmodel import Session

from auth.caller import Caller
from registry.access import may_read_private
from registry.completion import complete_if_due, has_open_objection
from registry.config import RegistrySettings
from registry.deadlines import china_date
from registry.enums import ObjectionState, RegistrationState
from registry.models import Objection, Registration
from registry.registrations import visible_registration
from registry.workflow import check_step, log_step, transition
from storage.db import now_of
from storage.exceptions import Conflict, FieldProblem, InvalidInput, NotFound

S = RegistrationState


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
