"""The provider console's routes: its front page and registering one's entity; each section adds its own router."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi import Request as HttpRequest
from fastapi.responses import Response
from pydantic import ValidationError

from auth.dependencies import AnyCaller, DbSession
from auth.roles import Role
from catalog.portal.dependencies import PortalRoute, to_signin
from catalog.portal.provider.access.router import router as access_router
from catalog.portal.provider.datasets.router import router as datasets_router
from catalog.portal.provider.dependencies import Fields, console_page, go, page
from catalog.portal.provider.forms import FormFields, domain_problems, shown_values, validation_problems
from catalog.portal.provider.negotiations.router import router as negotiations_router
from catalog.portal.provider.registrations.router import router as registrations_router
from catalog.portal.provider.subjects.router import router as subjects_router
from catalog.portal.provider.views import ENTITY_FIELDS, overview
from registry.entities import create_entity
from registry.schemas import EntityCreate
from storage.exceptions import DomainError

router = APIRouter(include_in_schema=False, route_class=PortalRoute)


@router.get("/console/provider")
def front(http: HttpRequest, caller: AnyCaller, session: DbSession) -> Response:
    """The caller's entity, its counts and the console's sections; or how to register one's entity first."""
    return console_page(
        http, caller, session, "provider/overview.html", lambda entity: {"overview": overview(session, caller, entity)}
    )


@router.post("/console/provider/entity")
def register_entity(http: HttpRequest, caller: AnyCaller, session: DbSession, fields: Fields) -> Response:
    """Register the caller's entity, as POST /api/v1/entities does; the registry verifies it afterwards."""
    if caller.is_anonymous:
        return to_signin(http)
    if not caller.has_role(Role.provider):
        return page(http, "provider/denied.html", 403)
    values = {name: value for name, value in fields.picked(ENTITY_FIELDS).items() if value is not None}
    try:
        create_entity(session, caller, EntityCreate.model_validate(values))
    except ValidationError as error:
        return _entity_form(http, fields, validation_problems(error), 422)
    except DomainError as error:
        return _entity_form(http, fields, domain_problems(error), error.status)
    return go(http, "/console/provider", {"registered": "1"})


def _entity_form(http: HttpRequest, fields: FormFields, problems: dict[str, str], status: int) -> Response:
    """The entity form again, with what was typed and what is wrong with it."""
    values = shown_values(fields, ENTITY_FIELDS)
    return page(http, "provider/no_entity.html", status, values=values, problems=problems)


router.include_router(subjects_router)
router.include_router(registrations_router)
router.include_router(datasets_router)
router.include_router(access_router)
router.include_router(negotiations_router)
