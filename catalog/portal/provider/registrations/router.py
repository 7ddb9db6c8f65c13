"""The console's registrations: apply for a resource or product, read where each stands, submit, resubmit after a
return for supplement, or withdraw; each through the registry's own procedure."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi import Request as HttpRequest
from fastapi.responses import Response
from pydantic import ValidationError

from auth.caller import Caller
from auth.dependencies import AnyCaller, Cursor, DbSession
from catalog.portal.dependencies import PortalRoute
from catalog.portal.provider.dependencies import Fields, console_entity, go, page
from catalog.portal.provider.forms import domain_problems, validation_problems
from catalog.portal.provider.registrations import views
from registry import registrations
from registry.dependencies import RegistryConfig
from registry.enums import RegistrationState
from registry.models import Entity
from registry.schemas import RegistrationCreate, StepRequest
from storage.exceptions import DomainError, NotFound

router = APIRouter(include_in_schema=False, route_class=PortalRoute)


def _list(
    http: HttpRequest,
    session: DbSession,
    caller: Caller,
    entity: Entity,
    state: RegistrationState | None,
    cursor: str | None,
    status: int = 200,
    problems: dict[str, str] | None = None,
) -> Response:
    """The registrations page, with what went wrong on an application if anything did."""
    listed = views.registration_list(session, caller, state, cursor)
    return page(
        http, "provider/registrations.html", status, entity=entity, listed=listed, state=state, problems=problems or {}
    )


@router.get("/console/provider/registrations")
def registration_list(
    http: HttpRequest,
    caller: AnyCaller,
    session: DbSession,
    state: Annotated[RegistrationState | None, Query()] = None,
    cursor: Cursor = None,
) -> Response:
    """The entity's registrations: state, deadlines, what is missing, the steps allowed now."""
    entity = console_entity(http, caller, session)
    if isinstance(entity, Response):
        return entity
    return _list(http, session, caller, entity, state, cursor)


@router.post("/console/provider/registrations")
def apply(http: HttpRequest, caller: AnyCaller, session: DbSession, fields: Fields) -> Response:
    """A draft application for one of the entity's resources or products, as POST /api/v1/registrations makes it."""
    entity = console_entity(http, caller, session)
    if isinstance(entity, Response):
        return entity
    subject = {name: value for name in ("resource_id", "product_id") if (value := fields.text(name))}
    try:
        body = RegistrationCreate.model_validate({"type": fields.text("type") or "first", "subject": subject})
        made = registrations.create_registration(session, caller, body)
    except ValidationError as error:
        return _list(http, session, caller, entity, None, None, 422, validation_problems(error))
    except DomainError as error:
        session.rollback()
        return _list(http, session, caller, entity, None, None, error.status, domain_problems(error))
    return go(http, f"/console/provider/registrations/{made.id}", {"done": "applied"})


def _detail(
    http: HttpRequest,
    session: DbSession,
    caller: Caller,
    settings: RegistryConfig,
    entity: Entity,
    registration_id: str,
    status: int = 200,
    problems: dict[str, str] | None = None,
) -> Response:
    """A registration's page, with what went wrong on a step if anything did."""
    row = views.registration_detail(session, caller, settings, registration_id)
    return page(http, "provider/registration.html", status, entity=entity, row=row, problems=problems or {})


@router.get("/console/provider/registrations/{registration_id}")
def registration(
    registration_id: str, http: HttpRequest, caller: AnyCaller, session: DbSession, settings: RegistryConfig
) -> Response:
    """One registration: its deadlines, what the registry asked for, its history and the steps allowed now."""
    entity = console_entity(http, caller, session)
    if isinstance(entity, Response):
        return entity
    return _detail(http, session, caller, settings, entity, registration_id)


@router.post("/console/provider/registrations/{registration_id}/{action}")
def take_step(
    registration_id: str,
    action: str,
    http: HttpRequest,
    caller: AnyCaller,
    session: DbSession,
    settings: RegistryConfig,
    fields: Fields,
) -> Response:
    """Submit (or resubmit after a return) or withdraw, as POST /api/v1/registrations/{id}/{action} does."""
    entity = console_entity(http, caller, session)
    if isinstance(entity, Response):
        return entity
    if action not in views.REGISTRANT_STEPS:
        raise NotFound("no such step")
    try:
        body = StepRequest.model_validate({"reason": fields.text("reason")})
        registrations.take_step(session, caller, settings, registration_id, action, reason=body.reason)
    except ValidationError as error:
        problems, status = validation_problems(error), 422
    except NotFound:
        raise
    except DomainError as error:
        session.rollback()
        problems, status = domain_problems(error), error.status
    else:
        return go(http, f"/console/provider/registrations/{registration_id}", {"done": action})
    return _detail(http, session, caller, settings, entity, registration_id, status, problems)
