"""The console's data resources (list, create, edit) and data products (list, create, read), each with its
registrations; every change goes through the registry's own use cases."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi import Request as HttpRequest
from fastapi.responses import Response
from pydantic import ValidationError

from auth.dependencies import AnyCaller, Cursor, DbSession
from catalog.portal.dependencies import PortalRoute
from catalog.portal.provider.dependencies import Fields, console_entity, console_page, go, page
from catalog.portal.provider.forms import domain_problems, validation_problems
from catalog.portal.provider.subjects import views
from registry import subjects
from registry.enums import SubjectType
from registry.models import DataProduct, DataResource, Entity
from registry.schemas import ProductCreate, ResourceCreate, ResourceUpdate
from storage.exceptions import DomainError

router = APIRouter(include_in_schema=False, route_class=PortalRoute)


@router.get("/console/provider/resources")
def resources(http: HttpRequest, caller: AnyCaller, session: DbSession, cursor: Cursor = None) -> Response:
    """The entity's data resources, newest first, each with its newest registration."""
    return console_page(
        http,
        caller,
        session,
        "provider/resources.html",
        lambda entity: {"listed": views.subject_list(session, caller, entity, DataResource, cursor)},
    )


def _resource_form(
    http: HttpRequest,
    entity: Entity,
    resource: DataResource | None,
    values: dict[str, Any],
    problems: dict[str, str],
    status: int = 200,
    registrations: list[Any] | None = None,
) -> Response:
    """The resource form, new or for an edit, with its values and what is wrong with them."""
    return page(
        http,
        "provider/resource_form.html",
        status,
        entity=entity,
        resource=resource,
        values=values,
        problems=problems,
        registrations=registrations or [],
    )


@router.get("/console/provider/resources/new")
def new_resource(http: HttpRequest, caller: AnyCaller, session: DbSession) -> Response:
    """An empty form for a new data resource."""
    entity = console_entity(http, caller, session)
    if isinstance(entity, Response):
        return entity
    return _resource_form(http, entity, None, views.resource_form(None), {})


@router.post("/console/provider/resources")
def create_resource(http: HttpRequest, caller: AnyCaller, session: DbSession, fields: Fields) -> Response:
    """A new draft resource, as POST /api/v1/resources makes it."""
    entity = console_entity(http, caller, session)
    if isinstance(entity, Response):
        return entity
    try:
        body = ResourceCreate.model_validate(views.resource_values(fields, keep_empty=False))
        made = subjects.create_resource(session, caller, body)
    except ValidationError as error:
        return _resource_form(http, entity, None, views.typed_resource_form(fields), validation_problems(error), 422)
    except DomainError as error:
        problems = domain_problems(error)
        return _resource_form(http, entity, None, views.typed_resource_form(fields), problems, error.status)
    return go(http, f"/console/provider/resources/{made.id}", {"saved": "created"})


@router.get("/console/provider/resources/{resource_id}")
def edit_resource(resource_id: str, http: HttpRequest, caller: AnyCaller, session: DbSession) -> Response:
    """A resource's edit form (drafts only change here) and its registrations."""
    entity = console_entity(http, caller, session)
    if isinstance(entity, Response):
        return entity
    resource, registrations = views.own_subject(session, caller, entity, SubjectType.resource, resource_id)
    assert isinstance(resource, DataResource)
    return _resource_form(http, entity, resource, views.resource_form(resource), {}, registrations=registrations)


@router.post("/console/provider/resources/{resource_id}")
def update_resource(
    resource_id: str, http: HttpRequest, caller: AnyCaller, session: DbSession, fields: Fields
) -> Response:
    """Save a draft resource's form, as PATCH /api/v1/resources/{id} does with the fields the form holds."""
    entity = console_entity(http, caller, session)
    if isinstance(entity, Response):
        return entity
    resource, registrations = views.own_subject(session, caller, entity, SubjectType.resource, resource_id)
    assert isinstance(resource, DataResource)
    try:
        changes = ResourceUpdate.model_validate(views.resource_values(fields, keep_empty=True))
        subjects.update_resource(session, caller, resource_id, changes)
    except ValidationError as error:
        problems = validation_problems(error)
        status = 422
    except DomainError as error:
        session.rollback()
        problems, status = domain_problems(error), error.status
    else:
        return go(http, f"/console/provider/resources/{resource_id}", {"saved": "updated"})
    typed = views.typed_resource_form(fields)
    return _resource_form(http, entity, resource, typed, problems, status, registrations)


@router.get("/console/provider/products")
def products(http: HttpRequest, caller: AnyCaller, session: DbSession, cursor: Cursor = None) -> Response:
    """The entity's data products and services, newest first, each with its newest registration."""
    return console_page(
        http,
        caller,
        session,
        "provider/products.html",
        lambda entity: {"listed": views.subject_list(session, caller, entity, DataProduct, cursor)},
    )


def _product_form(
    http: HttpRequest,
    session: DbSession,
    entity: Entity,
    values: dict[str, Any],
    problems: dict[str, str],
    status: int = 200,
) -> Response:
    """The product form with its values, the entity's resources to choose from, and its problems."""
    sources = views.source_choices(session, entity)
    return page(
        http, "provider/product_form.html", status, entity=entity, values=values, problems=problems, sources=sources
    )


@router.get("/console/provider/products/new")
def new_product(http: HttpRequest, caller: AnyCaller, session: DbSession) -> Response:
    """An empty form for a new data product or service."""
    entity = console_entity(http, caller, session)
    if isinstance(entity, Response):
        return entity
    return _product_form(http, session, entity, views.product_form(), {})


@router.post("/console/provider/products")
def create_product(http: HttpRequest, caller: AnyCaller, session: DbSession, fields: Fields) -> Response:
    """A new draft product, as POST /api/v1/products makes it."""
    entity = console_entity(http, caller, session)
    if isinstance(entity, Response):
        return entity
    try:
        made = subjects.create_product(session, caller, ProductCreate.model_validate(views.product_values(fields)))
    except ValidationError as error:
        return _product_form(http, session, entity, views.product_form(fields), validation_problems(error), 422)
    except DomainError as error:
        problems = domain_problems(error)
        return _product_form(http, session, entity, views.product_form(fields), problems, error.status)
    return go(http, f"/console/provider/products/{made.id}", {"saved": "created"})


@router.get("/console/provider/products/{product_id}")
def product(product_id: str, http: HttpRequest, caller: AnyCaller, session: DbSession) -> Response:
    """A product and its registrations."""
    entity = console_entity(http, caller, session)
    if isinstance(entity, Response):
        return entity
    found, registrations = views.own_subject(session, caller, entity, SubjectType.product, product_id)
    return page(http, "provider/product.html", entity=entity, product=found, registrations=registrations)
