"""The registration procedure's state machine: its steps, who takes each, and the guarded move between states.

Every step checks, in this order, that the caller's role may take the step (403) and that the current state
allows it (409 naming the steps allowed now). A move writes the new state under a version check, its history
row, its public registry event and its audit row together, in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from auth import audit
from auth.caller import SYSTEM, Caller
from registry import events
from registry.access import is_member
from registry.enums import RegistrationState
from registry.exceptions import ConcurrentUpdate, StepNotAllowed
from registry.models import Registration, RegistrationStep
from storage.db import now_of
from storage.exceptions import Forbidden, NotFound

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


def check_step(caller: Caller, registration: Registration, action: str) -> None:
    """Refuse a step that does not exist (404), that the caller may not take (403) or that the state forbids (409)."""
    step = STEPS.get(action)
    if step is None:
        raise NotFound(f"no workflow step named {action!r}; steps: {', '.join(STEPS)}")
    if not _may_take(caller, step, registration.entity_id):
        who = "the registry's staff" if step.by == "staff" else "the registrant entity's own accounts"
        raise Forbidden(f"'{action}' is taken by {who}")
    if registration.state not in step.from_states:
        raise StepNotAllowed(action, registration.state, steps_allowed_for(caller, registration))


def add_step(
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
    """Add a row to the registration's history, at the moment the use case runs at."""
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


def transition(
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
    log_step(session, registration, caller, action, from_state, to_state, step_reason, details)
    return registration


def log_step(
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
    add_step(session, registration, caller, action, from_state, to_state, reason, dict(details or {}), log_index)
    if caller is not SYSTEM:
        audit.record(session, caller, f"registration.{action}", f"registration:{registration.id}")
