"""HTTP routes of the registry: entities, resources, products, registrations, notices and the calendar."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlmodel import Session, col, delete, select

from auth import audit
from auth.caller import Caller
from auth.dependencies import AnyCaller, DbSession, SignedIn, Staff
from registry import entities, notices, registrations, subjects
from registry.dependencies import RegistryConfig
from registry.enums import EntityStatus, RegistrationState, SubjectType
from registry.models import CalendarOverride, DataProduct, DataResource, Registration
from registry.schemas import (
    CalendarYear,
    EntitiesPublic,
    EntityCreate,
    EntityDetail,
    EntityPublic,
    EntityStatusChange,
    NoticesPublic,
    ObjectionCreate,
    ObjectionPublic,
    ObjectionResolution,
    ProductCreate,
    ProductPublic,
    RegistrationCreate,
    RegistrationPublic,
    RegistrationsPublic,
    ResourceCreate,
    ResourcePublic,
    ResourceUpdate,
    StepPublic,
    StepRequest,
    SubjectVersionPublic,
)
from storage.exceptions import FieldProblem, InvalidInput
from storage.pagination import DEFAULT_LIMIT, MAX_LIMIT

router = APIRouter(prefix="/api/v1", tags=["registry"])
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


# ---------------------------------------------------------------- entities


def _entity_view(entity: object, private: bool) -> EntityPublic:
    return EntityDetail.model_validate(entity) if private else EntityPublic.model_validate(entity)


@router.post("/entities", response_model=EntityDetail, status_code=status.HTTP_201_CREATED)
def create_entity(body: EntityCreate, caller: SignedIn, session: DbSession) -> EntityDetail:
    """Register an entity (pending until the registry verifies it)."""
    return EntityDetail.model_validate(entities.create_entity(session, caller, body))


@router.get("/entities", response_model=EntitiesPublic)
def search_entities(
    caller: AnyCaller,
    session: DbSession,
    q: Annotated[str | None, Query(max_length=200)] = None,
    status: EntityStatus | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> EntitiesPublic:
    """Entities by name or code; staff may filter by status, others see verified entities."""
    page = entities.search_entities(session, caller, q=q, status=status, limit=limit, cursor=cursor)
    return EntitiesPublic(
        items=[EntityPublic.model_validate(e) for e in page.items], count=page.count, next_cursor=page.next_cursor
    )


@router.get("/entities/{entity_id}", response_model=EntityDetail | EntityPublic)
def read_entity(entity_id: str, caller: AnyCaller, session: DbSession) -> EntityPublic:
    """An entity; contact details only for its members and the staff."""
    entity, private = entities.visible_entity(session, caller, entity_id)
    return _entity_view(entity, private)


@router.post("/entities/{entity_id}/verify", response_model=EntityDetail)
def verify_entity(
    entity_id: str, caller: Staff, session: DbSession, body: EntityStatusChange | None = None
) -> EntityDetail:
    """The registry verifies an entity."""
    reason = body.reason if body else None
    return EntityDetail.model_validate(entities.set_status(session, caller, entity_id, EntityStatus.verified, reason))


@router.post("/entities/{entity_id}/suspend", response_model=EntityDetail)
def suspend_entity(entity_id: str, body: EntityStatusChange, caller: Staff, session: DbSession) -> EntityDetail:
    """The registry suspends an entity, stating why."""
    return EntityDetail.model_validate(
        entities.set_status(session, caller, entity_id, EntityStatus.suspended, body.reason)
    )


# ---------------------------------------------------------------- resources and products


@router.post("/resources", response_model=ResourcePublic, status_code=status.HTTP_201_CREATED)
def create_resource(body: ResourceCreate, caller: SignedIn, session: DbSession) -> DataResource:
    """A new draft data resource."""
    return subjects.create_resource(session, caller, body)


@router.get("/resources/{resource_id}", response_model=ResourcePublic)
def read_resource(resource_id: str, caller: AnyCaller, session: DbSession) -> DataResource:
    """A data resource: registered ones are public, drafts only for their entity and the staff."""
    resource = subjects.visible_subject(session, caller, SubjectType.resource, resource_id)
    assert isinstance(resource, DataResource)
    return resource


@router.patch("/resources/{resource_id}", response_model=ResourcePublic)
def update_resource(resource_id: str, body: ResourceUpdate, caller: SignedIn, session: DbSession) -> DataResource:
    """Edit a draft resource."""
    return subjects.update_resource(session, caller, resource_id, body)


@router.get("/resources/{resource_id}/versions", response_model=list[SubjectVersionPublic])
def resource_versions(resource_id: str, caller: AnyCaller, session: DbSession) -> list[SubjectVersionPublic]:
    """Every registered version of a resource, oldest first."""
    subjects.visible_subject(session, caller, SubjectType.resource, resource_id)
    versions = subjects.subject_versions(session, SubjectType.resource, resource_id)
    return [SubjectVersionPublic.model_validate(v) for v in versions]


@router.post("/products", response_model=ProductPublic, status_code=status.HTTP_201_CREATED)
def create_product(body: ProductCreate, caller: SignedIn, session: DbSession) -> DataProduct:
    """A new draft data product or service."""
    return subjects.create_product(session, caller, body)


@router.get("/products/{product_id}", response_model=ProductPublic)
def read_product(product_id: str, caller: AnyCaller, session: DbSession) -> DataProduct:
    """A data product: registered ones are public, drafts only for their entity and the staff."""
    product = subjects.visible_subject(session, caller, SubjectType.product, product_id)
    assert isinstance(product, DataProduct)
    return product


@router.get("/products/{product_id}/versions", response_model=list[SubjectVersionPublic])
def product_versions(product_id: str, caller: AnyCaller, session: DbSession) -> list[SubjectVersionPublic]:
    """Every registered version of a product, oldest first."""
    subjects.visible_subject(session, caller, SubjectType.product, product_id)
    versions = subjects.subject_versions(session, SubjectType.product, product_id)
    return [SubjectVersionPublic.model_validate(v) for v in versions]


# ---------------------------------------------------------------- registrations


def registration_view(
    session: Session, caller: Caller, registration: Registration, *, full: bool = True
) -> RegistrationPublic:
    """A registration with what this caller may do next, and its history when full."""
    view = RegistrationPublic.model_validate(registration)
    view.calendar_note = registrations.calendar_note(registration)
    view.allowed_actions = registrations.steps_allowed_for(caller, registration)
    if full:
        view.history = [StepPublic.model_validate(s) for s in registrations.history(session, registration.id)]
        view.objections = [
            ObjectionPublic.model_validate(o) for o in registrations.objections(session, registration.id)
        ]
    return view


@router.post("/registrations", response_model=RegistrationPublic, status_code=status.HTTP_201_CREATED)
def create_registration(body: RegistrationCreate, caller: SignedIn, session: DbSession) -> RegistrationPublic:
    """A draft application to register, change, correct or cancel a resource or product."""
    registration = registrations.create_registration(session, caller, body)
    return registration_view(session, caller, registration)


@router.get("/registrations", response_model=RegistrationsPublic)
def list_registrations(
    caller: SignedIn,
    session: DbSession,
    state: RegistrationState | None = None,
    overdue: bool = False,
    subject_id: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> RegistrationsPublic:
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
    return RegistrationsPublic(
        items=[registration_view(session, caller, r, full=False) for r in page.items],
        count=page.count,
        next_cursor=page.next_cursor,
    )


@router.get("/registrations/{registration_id}", response_model=RegistrationPublic)
def read_registration(
    registration_id: str, caller: SignedIn, session: DbSession, settings: RegistryConfig
) -> RegistrationPublic:
    """State, deadlines and full history; a notice that has ended completes on this read."""
    registration = registrations.visible_registration(session, caller, registration_id)
    registrations.complete_if_due(session, settings, registration)
    return registration_view(session, caller, registration)


@router.post("/registrations/{registration_id}/objections", response_model=ObjectionPublic, status_code=201)
def file_objection(
    registration_id: str, body: ObjectionCreate, caller: SignedIn, session: DbSession, settings: RegistryConfig
) -> ObjectionPublic:
    """Object to a registration during its public notice."""
    objection = registrations.file_objection(session, caller, settings, registration_id, body.reason)
    return ObjectionPublic.model_validate(objection)


@router.post("/registrations/{registration_id}/resolve-objection", response_model=RegistrationPublic)
def resolve_objection(
    registration_id: str, body: ObjectionResolution, caller: SignedIn, session: DbSession, settings: RegistryConfig
) -> RegistrationPublic:
    """Uphold or dismiss an objection."""
    registration = registrations.resolve_objection(
        session, caller, settings, registration_id, body.objection_id, body.decision, body.reason
    )
    return registration_view(session, caller, registration)


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


@router.get("/notices", response_model=NoticesPublic)
def notice_board(
    session: DbSession,
    settings: RegistryConfig,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> NoticesPublic:
    """The public notice board: open to everyone, the four public fields and the dates only."""
    return notices.notice_board(session, settings, limit=limit, cursor=cursor)


# ---------------------------------------------------------------- calendar


@router.get("/calendar/{year}", response_model=CalendarYear)
def read_calendar(year: int, caller: Staff, session: DbSession) -> CalendarYear:
    """The operators' holiday table for a year."""
    rows = session.exec(
        select(CalendarOverride).where(
            col(CalendarOverride.day) >= date(year, 1, 1), col(CalendarOverride.day) <= date(year, 12, 31)
        )
    ).all()
    return CalendarYear(
        holidays=sorted(r.day for r in rows if r.kind == "holiday"),
        workdays=sorted(r.day for r in rows if r.kind == "workday"),
    )


@router.put("/calendar/{year}", response_model=CalendarYear)
def replace_calendar(year: int, body: CalendarYear, caller: Staff, session: DbSession) -> CalendarYear:
    """Replace the operators' holiday table for a year (on top of the official one)."""
    problems = [
        FieldProblem(f"{kind}[{i}]", f"{day} is not in {year}")
        for kind, days in (("holidays", body.holidays), ("workdays", body.workdays))
        for i, day in enumerate(days)
        if day.year != year
    ]
    both = sorted(set(body.holidays) & set(body.workdays))
    problems += [FieldProblem("workdays", f"{day} is also listed as a holiday") for day in both]
    if problems:
        raise InvalidInput("the holiday table is not valid", errors=problems)
    session.execute(
        delete(CalendarOverride).where(
            col(CalendarOverride.day) >= date(year, 1, 1), col(CalendarOverride.day) <= date(year, 12, 31)
        )
    )
    for day in sorted(set(body.holidays)):
        session.add(CalendarOverride(day=day, kind="holiday"))
    for day in sorted(set(body.workdays)):
        session.add(CalendarOverride(day=day, kind="workday"))
    audit.record(session, caller, "calendar.replace", f"calendar:{year}")
    session.commit()
    return CalendarYear(holidays=sorted(set(body.holidays)), workdays=sorted(set(body.workdays)))
