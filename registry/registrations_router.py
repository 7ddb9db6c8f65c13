"""HTTP routes of the registration procedure: applications, steps, objections, notice board, operators' calendar."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status
from sqlmodel import Session

from auth.caller import Caller
from auth.dependencies import AnyCaller, Cursor, DbSession, Limit, SignedIn, Staff
from registry import holidays, notices, objections, registrations, workflow
from registry.dependencies import RegistryConfig
from registry.enums import RegistrationState
from registry.models import Registration
from registry.schemas import (
    YEAR_MAX,
    YEAR_MIN,
    CalendarYear,
    NoticePublic,
    ObjectionCreate,
    ObjectionPublic,
    ObjectionResolution,
    RegistrationCreate,
    RegistrationPublic,
    StepPublic,
    StepRequest,
)
from storage.pages import Page
from storage.pagination import DEFAULT_LIMIT

router = APIRouter(prefix="/api/v1", tags=["registry"])

# The years a date can hold (a 422 naming the year otherwise, not a failure deep in the service).
Year = Annotated[int, Path(ge=YEAR_MIN, le=YEAR_MAX)]


def registration_view(
    session: Session, caller: Caller, registration: Registration, *, full: bool = True
) -> RegistrationPublic:
    """A registration with what this caller may do next, and its history when full."""
    view = RegistrationPublic.model_validate(registration)
    view.calendar_note = registrations.calendar_note(registration)
    view.allowed_actions = workflow.steps_allowed_for(caller, registration)
    if full:
        view.history = [StepPublic.model_validate(s) for s in registrations.history(session, registration.id)]
        view.objections = objections.shown_objections(session, caller, registration.id)
    return view


# ---------------------------------------------------------------- registrations


@router.post("/registrations", response_model=RegistrationPublic, status_code=status.HTTP_201_CREATED)
def create_registration(body: RegistrationCreate, caller: SignedIn, session: DbSession) -> RegistrationPublic:
    """A draft application to register, change, correct or cancel a resource or product."""
    registration = registrations.create_registration(session, caller, body)
    return registration_view(session, caller, registration)


@router.get("/registrations", response_model=Page[RegistrationPublic])
def list_registrations(
    caller: SignedIn,
    session: DbSession,
    state: RegistrationState | None = None,
    overdue: bool = False,
    subject_id: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[RegistrationPublic]:
    """Registrations: the staff's worklist (``overdue=true`` for acceptance deadlines passed), or one's own."""
    page = registrations.list_registrations(
        session,
        caller,
        state=state,
        overdue=overdue,
        subject_id=subject_id,
        limit=limit,
        cursor=cursor,
    )
    return Page[RegistrationPublic](
        items=[registration_view(session, caller, r, full=False) for r in page.items],
        count=page.count,
        next_cursor=page.next_cursor,
    )


@router.get("/registrations/{registration_id}", response_model=RegistrationPublic)
def read_registration(
    registration_id: str, caller: SignedIn, session: DbSession, settings: RegistryConfig
) -> RegistrationPublic:
    """State, deadlines and full history; a notice that has ended completes on this read."""
    registration = registrations.read_registration(session, caller, settings, registration_id)
    return registration_view(session, caller, registration)


@router.post("/registrations/{registration_id}/objections", response_model=ObjectionPublic, status_code=201)
def file_objection(
    registration_id: str, body: ObjectionCreate, caller: AnyCaller, session: DbSession, settings: RegistryConfig
) -> ObjectionPublic:
    """Object to a registration during its public notice: signed in, or anyone with a name and contact."""
    objection = objections.file_objection(session, caller, settings, registration_id, body)
    return objections.present(objection, reveal=True)


@router.post("/registrations/{registration_id}/resolve-objection", response_model=RegistrationPublic)
def resolve_objection(
    registration_id: str, body: ObjectionResolution, caller: SignedIn, session: DbSession, settings: RegistryConfig
) -> RegistrationPublic:
    """Uphold or dismiss an objection."""
    registration = objections.resolve_objection(
        session, caller, settings, registration_id, body.objection_id, body.decision, body.reason
    )
    return registration_view(session, caller, registration)


# Declared after the named sub-paths above, so that `{action}` does not swallow them.
@router.post("/registrations/{registration_id}/{action}", response_model=RegistrationPublic)
def take_step(
    registration_id: str,
    action: str,
    caller: SignedIn,
    session: DbSession,
    settings: RegistryConfig,
    body: StepRequest | None = None,
) -> RegistrationPublic:
    """A workflow step: submit, return, accept, refuse, pass-review or withdraw."""
    body = body or StepRequest()
    registration = registrations.take_step(
        session,
        caller,
        settings,
        registration_id,
        action,
        reason=body.reason,
        missing_items=body.missing_items,
        changes=body.changes,
    )
    return registration_view(session, caller, registration)


# ---------------------------------------------------------------- notices


@router.get("/notices", response_model=Page[NoticePublic])
def notice_board(
    session: DbSession,
    settings: RegistryConfig,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[NoticePublic]:
    """The public notice board: open to everyone, the four public fields and the dates only."""
    return notices.notice_board(session, settings, limit=limit, cursor=cursor)


# ---------------------------------------------------------------- calendar


@router.get("/calendar/{year}", response_model=CalendarYear)
def read_calendar(year: Year, caller: Staff, session: DbSession) -> CalendarYear:
    """The operators' holiday table for a year."""
    return holidays.read_year(session, year)


@router.put("/calendar/{year}", response_model=CalendarYear)
def replace_calendar(year: Year, body: CalendarYear, caller: Staff, session: DbSession) -> CalendarYear:
    """Replace the operators' holiday table for a year (on top of the official one)."""
    return holidays.replace_year(session, caller, year, body)
