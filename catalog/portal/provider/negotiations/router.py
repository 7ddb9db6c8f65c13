"""The console's negotiation pages: the negotiations asked of the entity, and one with the steps its provider may take
now (counter-offer, agree, finalize, terminate) and its agreement (retire or terminate it); each through the data
space's own use cases."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi import Request as HttpRequest
from fastapi.responses import Response

from auth.caller import Caller
from auth.dependencies import AnyCaller, Cursor, DbSession
from catalog.dataspace.dependencies import NegotiationRules
from catalog.dataspace.negotiation import Side, Step
from catalog.portal import negotiations as shown
from catalog.portal.dependencies import PortalRoute
from catalog.portal.provider.dependencies import Fields, console_entity, console_page, go, page
from catalog.portal.provider.negotiations import views
from registry.models import Entity
from storage.exceptions import NotFound

router = APIRouter(include_in_schema=False, route_class=PortalRoute)
NEGOTIATIONS = "/console/provider/negotiations"


@router.get(NEGOTIATIONS)
def negotiation_list(http: HttpRequest, caller: AnyCaller, session: DbSession, cursor: Cursor = None) -> Response:
    """The negotiations for the entity's datasets, newest first, each with its state and latest offer's key terms."""
    return console_page(
        http,
        caller,
        session,
        "provider/negotiations.html",
        lambda entity: {"listed": views.entity_negotiations(session, caller, entity, cursor)},
    )


def _detail(
    http: HttpRequest,
    session: DbSession,
    caller: Caller,
    entity: Entity,
    negotiation_id: str,
    refusal: shown.Refusal | None = None,
) -> Response:
    """A negotiation's page, with why a step was refused if one was."""
    negotiation = views.entity_negotiation(session, caller, entity, negotiation_id)
    data = shown.negotiation_page(session, caller, negotiation, Side.provider)
    status = refusal.status if refusal else 200
    return page(http, "provider/negotiation.html", status, entity=entity, shown=data, refusal=refusal)


@router.get(NEGOTIATIONS + "/{negotiation_id}")
def negotiation(negotiation_id: str, http: HttpRequest, caller: AnyCaller, session: DbSession) -> Response:
    """One negotiation: its terms, its steps, what the provider may do now, and its agreement."""
    entity = console_entity(http, caller, session)
    if isinstance(entity, Response):
        return entity
    return _detail(http, session, caller, entity, negotiation_id)


@router.post(NEGOTIATIONS + "/{negotiation_id}/agreement/{ending}")
def end_agreement(
    negotiation_id: str,
    ending: str,
    http: HttpRequest,
    caller: AnyCaller,
    session: DbSession,
    rules: NegotiationRules,
    fields: Fields,
) -> Response:
    """Retire or terminate the negotiation's agreement with a reason, as POST /api/v1/agreements/{id}/... does."""
    entity = console_entity(http, caller, session)
    if isinstance(entity, Response):
        return entity
    if ending not in shown.AGREEMENT_ENDINGS[Side.provider]:
        raise NotFound("no such ending")
    views.entity_negotiation(session, caller, entity, negotiation_id)
    refusal = shown.end(session, caller, rules, negotiation_id, ending, fields.raw("reason"))
    if refusal is None:
        return go(http, f"{NEGOTIATIONS}/{negotiation_id}", {"done": "agreement-" + ending})
    return _detail(http, session, caller, entity, negotiation_id, refusal)


@router.post(NEGOTIATIONS + "/{negotiation_id}/{action}")
def take_step(
    negotiation_id: str,
    action: str,
    http: HttpRequest,
    caller: AnyCaller,
    session: DbSession,
    rules: NegotiationRules,
    fields: Fields,
) -> Response:
    """Counter with a new last day and quota, agree to the latest offer, finalize (the grant is made), or terminate
    with a reason, as the API's routes do."""
    entity = console_entity(http, caller, session)
    if isinstance(entity, Response):
        return entity
    if action not in {step.value for step in shown.CONSOLE_STEPS[Side.provider]}:
        raise NotFound("no such step")
    views.entity_negotiation(session, caller, entity, negotiation_id)
    if action == Step.offer:
        refusal = shown.counter(
            session, caller, rules, negotiation_id, fields.raw("until"), fields.raw("download_quota")
        )
    else:
        refusal = shown.take(session, caller, rules, negotiation_id, Step(action), fields.raw("reason"))
    if refusal is None:
        return go(http, f"{NEGOTIATIONS}/{negotiation_id}", {"done": action})
    return _detail(http, session, caller, entity, negotiation_id, refusal)
