"""The consumer console's negotiation pages: the list, a negotiation with the steps the consumer may take now
(accept, verify, terminate) and its agreement (terminate it), and negotiating a dataset's offer from its page; each
step through the data space's own use cases."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form
from fastapi import Request as HttpRequest
from fastapi.responses import RedirectResponse, Response

from auth.caller import Caller
from auth.dependencies import AnyCaller, Cursor, DbSession
from catalog.dataspace.dependencies import NegotiationRules
from catalog.dataspace.negotiation import Side, Step
from catalog.portal import negotiations as shown
from catalog.portal.account.negotiations import views
from catalog.portal.dependencies import PortalRoute, page_request, show, to_signin
from catalog.portal.pages import dataset_page
from storage.exceptions import DomainError, NotFound

router = APIRouter(include_in_schema=False, route_class=PortalRoute)

NEGOTIATIONS = "/console/consumer/negotiations"
Reason = Annotated[str, Form(max_length=4000)]
OfferId = Annotated[str, Form(max_length=60)]


def _signin_then(path: str) -> RedirectResponse:
    """A signed-out visitor's post: sign in first, then see the page the form was on."""
    return RedirectResponse(f"/signin?{urlencode({'next': path})}", status_code=303)


def _go(http: HttpRequest, path: str, done: str) -> RedirectResponse:
    return RedirectResponse(page_request(http).url(path, {"done": done}), status_code=303)


@router.get(NEGOTIATIONS)
def negotiation_list(http: HttpRequest, caller: AnyCaller, session: DbSession, cursor: Cursor = None) -> Response:
    """The negotiations the caller started, newest first, each with its state and latest offer's key terms."""
    if caller.is_anonymous:
        return to_signin(http)
    listed = views.own_negotiations(session, caller, cursor)
    return show(http, page_request(http), "negotiations.html", listed=listed)


def _detail(
    http: HttpRequest,
    session: DbSession,
    caller: Caller,
    negotiation_id: str,
    refusal: shown.Refusal | None = None,
) -> Response:
    """A negotiation's page, with why a step was refused if one was."""
    negotiation = views.own_negotiation(session, caller, negotiation_id)
    data = shown.negotiation_page(session, caller, negotiation, Side.consumer)
    status = refusal.status if refusal else 200
    return show(http, page_request(http), "negotiation.html", status, shown=data, refusal=refusal)


@router.get(NEGOTIATIONS + "/{negotiation_id}")
def negotiation(negotiation_id: str, http: HttpRequest, caller: AnyCaller, session: DbSession) -> Response:
    """One of the caller's negotiations: its terms, its steps, what the caller may do now, and its agreement."""
    if caller.is_anonymous:
        return to_signin(http)
    return _detail(http, session, caller, negotiation_id)


@router.post(NEGOTIATIONS + "/{negotiation_id}/agreement/terminate")
def terminate_agreement(
    negotiation_id: str,
    http: HttpRequest,
    caller: AnyCaller,
    session: DbSession,
    rules: NegotiationRules,
    reason: Reason = "",
) -> Response:
    """Terminate the negotiation's agreement with a reason, as POST /api/v1/agreements/{id}/terminate does."""
    here = f"{NEGOTIATIONS}/{negotiation_id}"
    if caller.is_anonymous:
        return _signin_then(here)
    views.own_negotiation(session, caller, negotiation_id)
    refusal = shown.end(session, caller, rules, negotiation_id, "terminate", reason)
    if refusal is None:
        return _go(http, here, "agreement-terminate")
    return _detail(http, session, caller, negotiation_id, refusal)


@router.post(NEGOTIATIONS + "/{negotiation_id}/{action}")
def take_step(
    negotiation_id: str,
    action: str,
    http: HttpRequest,
    caller: AnyCaller,
    session: DbSession,
    rules: NegotiationRules,
    reason: Reason = "",
) -> Response:
    """Accept the provider's offer, verify the agreement, or terminate with a reason, as the API's routes do."""
    here = f"{NEGOTIATIONS}/{negotiation_id}"
    if caller.is_anonymous:
        return _signin_then(here)
    if action not in {step.value for step in shown.CONSOLE_STEPS[Side.consumer]}:
        raise NotFound("no such step")
    views.own_negotiation(session, caller, negotiation_id)
    refusal = shown.take(session, caller, rules, negotiation_id, Step(action), reason)
    if refusal is None:
        return _go(http, here, action)
    return _detail(http, session, caller, negotiation_id, refusal)


@router.post("/datasets/{dataset_id}/negotiate")
def negotiate(
    dataset_id: str,
    http: HttpRequest,
    caller: AnyCaller,
    session: DbSession,
    rules: NegotiationRules,
    offer_id: OfferId = "",
) -> Response:
    """Start a negotiation on one of a conditional dataset's offers as it stands, and see it on the console."""
    if caller.is_anonymous:
        return _signin_then(f"/datasets/{dataset_id}")
    try:
        started = views.start_on_offer(session, caller, dataset_id, offer_id, rules)
    except NotFound:
        raise
    except DomainError as error:
        session.rollback()
        page = dataset_page(session, caller, dataset_id)
        offers = shown.offers_to_negotiate(session, caller, dataset_id, page.conditional)
        refusal = shown.Refusal("negotiate", error.status, error.detail)
        return show(http, page_request(http), "dataset.html", error.status, page=page, offers=offers, refusal=refusal)
    return _go(http, f"{NEGOTIATIONS}/{started.id}", "request")
