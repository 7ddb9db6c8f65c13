"""The console's exchange side: approve or reject access requests to the entity's data, revoke grants it gave, and
read its download figures; each decision through the exchange's own use cases."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi import Request as HttpRequest
from fastapi.responses import Response
from pydantic import ValidationError

from auth.dependencies import AnyCaller, Cursor, DbSession
from catalog.exchange import grants, requests
from catalog.exchange.schemas import Decision, Reason
from catalog.portal.dependencies import PortalRoute
from catalog.portal.provider.access import views
from catalog.portal.provider.dependencies import Fields, console_entity, console_page, go, page
from catalog.portal.provider.forms import domain_problems, validation_problems
from catalog.web.dependencies import CatalogConfig
from registry.models import Entity
from storage.exceptions import DomainError, NotFound

router = APIRouter(include_in_schema=False, route_class=PortalRoute)
REQUESTS = "/console/provider/requests"
GRANTS = "/console/provider/grants"


def _again(
    http: HttpRequest, template: str, entity: Entity, listed: object, status: int, failed: str, problems: dict[str, str]
) -> Response:
    """A list page again, with what went wrong on the row whose form was refused."""
    return page(http, template, status, entity=entity, listed=listed, failed=failed, problems=problems)


@router.get(REQUESTS)
def access_requests(http: HttpRequest, caller: AnyCaller, session: DbSession, cursor: Cursor = None) -> Response:
    """The access requests made to the entity's datasets and products, with the forms to decide them."""
    return console_page(
        http,
        caller,
        session,
        "provider/requests.html",
        lambda entity: {
            "listed": views.incoming_requests(session, caller, entity, cursor),
            "failed": None,
            "problems": {},
        },
    )


@router.post(f"{REQUESTS}/{{request_id}}/{{decision}}")
def decide(
    request_id: str,
    decision: str,
    http: HttpRequest,
    caller: AnyCaller,
    session: DbSession,
    settings: CatalogConfig,
    fields: Fields,
) -> Response:
    """Approve (with the grant's end and download quota) or reject (with a reason), as the API's routes do."""
    entity = console_entity(http, caller, session)
    if isinstance(entity, Response):
        return entity
    try:
        if decision == "approve":
            terms = Decision.model_validate(fields.picked(("reason", "until", "download_quota")))
            requests.approve_request(
                session, caller, request_id, terms, operator_second=settings.access_operator_second
            )
        elif decision == "reject":
            reason = Reason.model_validate({"reason": fields.text("reason") or ""})
            requests.reject_request(session, caller, request_id, reason.reason)
        else:
            raise NotFound("no such decision")
    except ValidationError as error:
        listed = views.incoming_requests(session, caller, entity, None)
        return _again(http, "provider/requests.html", entity, listed, 422, request_id, validation_problems(error))
    except NotFound:
        raise
    except DomainError as error:
        session.rollback()
        listed = views.incoming_requests(session, caller, entity, None)
        return _again(http, "provider/requests.html", entity, listed, error.status, request_id, domain_problems(error))
    return go(http, REQUESTS, {"done": decision})


@router.get(GRANTS)
def given_grants(http: HttpRequest, caller: AnyCaller, session: DbSession, cursor: Cursor = None) -> Response:
    """The grants the entity gave: status, quota and downloads used, period; each with a form to revoke it."""
    return console_page(
        http,
        caller,
        session,
        "provider/grants.html",
        lambda entity: {"listed": views.given_grants(session, caller, entity, cursor), "failed": None, "problems": {}},
    )


@router.post(f"{GRANTS}/{{grant_id}}/revoke")
def revoke(grant_id: str, http: HttpRequest, caller: AnyCaller, session: DbSession, fields: Fields) -> Response:
    """Revoke a grant with a reason, as POST /api/v1/grants/{id}/revoke does; its downloads stop at once."""
    entity = console_entity(http, caller, session)
    if isinstance(entity, Response):
        return entity
    try:
        reason = Reason.model_validate({"reason": fields.text("reason") or ""})
        grants.revoke_grant(session, caller, grant_id, reason.reason)
    except ValidationError as error:
        listed = views.given_grants(session, caller, entity, None)
        return _again(http, "provider/grants.html", entity, listed, 422, grant_id, validation_problems(error))
    except NotFound:
        raise
    except DomainError as error:
        session.rollback()
        listed = views.given_grants(session, caller, entity, None)
        return _again(http, "provider/grants.html", entity, listed, error.status, grant_id, domain_problems(error))
    return go(http, GRANTS, {"done": "revoked"})


@router.get("/console/provider/downloads")
def downloads(http: HttpRequest, caller: AnyCaller, session: DbSession) -> Response:
    """How often the entity's datasets were downloaded: in all, and a bar chart by month."""
    return console_page(
        http,
        caller,
        session,
        "provider/downloads.html",
        lambda entity: {"figures": views.download_figures(session, caller, entity)},
    )
