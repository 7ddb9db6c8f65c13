"""HTTP routes of the data space: a dataset's and a listed product's offers and their explanation (native API),
pdr's ODRL profile, contract negotiations and agreements (native API), and the Dataspace Protocol's version
metadata, catalog and the provider side of its contract negotiation (HTTPS binding, under /dsp; negotiations take
a pdr bearer token)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Response, status
from fastapi.responses import JSONResponse

from auth.dependencies import AnyCaller, Cursor, DbSession, Limit, SignedIn
from catalog.dataspace import (
    agreement_credentials,
    listing_offers,
    negotiation_messages,
    negotiation_protocol,
    negotiations,
    protocol,
    service,
    usage,
)
from catalog.dataspace.dependencies import NegotiationRoute, NegotiationRules, ProtocolRoute
from catalog.dataspace.documents import PROTOCOL_PATH, offer_document, version_document
from catalog.dataspace.listing_offers import listing_offer_document
from catalog.dataspace.models import DatasetOffer, ListingOffer, Negotiation, NegotiationStep
from catalog.dataspace.negotiation import State, Step
from catalog.dataspace.negotiation_protocol import provider_pid
from catalog.dataspace.negotiations import Rules
from catalog.dataspace.profile import describe
from catalog.dataspace.schemas import (
    AgreementBundle,
    AgreementUsage,
    AgreementVerificationIn,
    CatalogRequestMessage,
    ContractRequestIn,
    ExplanationPublic,
    ListingOfferPublic,
    NegotiationCreate,
    NegotiationEventIn,
    NegotiationPublic,
    NegotiationStepPublic,
    NegotiationTermination,
    NegotiationTerminationIn,
    NegotiationTerms,
    OfferCreate,
    OfferPublic,
    ProspectiveRequest,
)
from catalog.web.dependencies import BaseUrl, CatalogConfig
from storage.pages import Page
from storage.pagination import DEFAULT_LIMIT

router = APIRouter(prefix="/api/v1", tags=["data space"])
protocol_router = APIRouter(tags=["dataspace protocol"], route_class=ProtocolRoute)

CATALOG_PAGE = 100


def protocol_errors(error_type: str, pids: tuple[str, ...] = ()) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI answers of a protocol route's errors: the protocol's error message of `error_type` (carrying the
    process ids `pids`), or a problem when the middleware refused the request before the protocol's route ran."""
    schema = {
        "type": "object",
        "required": ["@context", "@type", *pids],
        "properties": {
            "@context": {"type": "array", "items": {"type": "string"}},
            "@type": {"type": "string", "const": error_type},
            **{pid: {"type": "string"} for pid in pids},
            "code": {"type": "string"},
            "reason": {"type": "array", "items": {"type": "string"}},
        },
    }
    content = {
        "application/json": {"schema": schema},
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}},
    }
    description = f"a {error_type} (or a problem, when refused before the protocol's route)"
    return {code: {"description": description, "content": content} for code in (400, 401, 404)}


PROTOCOL_ERRORS = protocol_errors("CatalogError")


def _public(offer: DatasetOffer) -> OfferPublic:
    return OfferPublic(
        id=offer.id, dataset_id=offer.dataset_id, created_at=offer.created_at, policy=offer_document(offer)
    )


@router.get("/odrl/profile")
def odrl_profile() -> dict[str, Any]:
    """pdr's closed ODRL profile: the actions, left operands and operators an offer may use."""
    return describe()


@router.post("/datasets/{dataset_id}/offers", response_model=OfferPublic, status_code=status.HTTP_201_CREATED)
def create_offer(
    dataset_id: str, body: OfferCreate, caller: SignedIn, session: DbSession, settings: CatalogConfig
) -> OfferPublic:
    """Add an ODRL offer in pdr's profile to a conditional dataset (its entity or the registry's staff)."""
    document = body.model_dump(mode="json", by_alias=True, exclude_none=True)
    offer = service.create_offer(session, caller, dataset_id, document, fee_cap=settings.listing_fee_cap)
    return _public(offer)


@router.get("/datasets/{dataset_id}/offers", response_model=Page[OfferPublic])
def list_offers(
    dataset_id: str, caller: AnyCaller, session: DbSession, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[OfferPublic]:
    """The offers of a dataset the caller may see."""
    page = service.list_offers(session, caller, dataset_id, limit=limit, cursor=cursor)
    return Page[OfferPublic](items=[_public(o) for o in page.items], count=page.count, next_cursor=page.next_cursor)


@router.post("/datasets/{dataset_id}/offers/explain", response_model=ExplanationPublic)
def explain_offers(
    dataset_id: str, body: ProspectiveRequest, caller: AnyCaller, session: DbSession
) -> ExplanationPublic:
    """How each offer of the dataset would judge a prospective request: every term, pass or fail, and why."""
    return service.explain_offers(session, caller, dataset_id, body)


@router.get("/datasets/{dataset_id}/offers/{offer_id}", response_model=OfferPublic)
def read_offer(dataset_id: str, offer_id: str, caller: AnyCaller, session: DbSession) -> OfferPublic:
    """One offer of a dataset the caller may see."""
    return _public(service.get_offer(session, caller, dataset_id, offer_id))


@router.delete("/datasets/{dataset_id}/offers/{offer_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_offer(dataset_id: str, offer_id: str, caller: SignedIn, session: DbSession) -> Response:
    """Take an offer back (the dataset's entity or the registry's staff)."""
    service.delete_offer(session, caller, dataset_id, offer_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _listing_public(offer: ListingOffer) -> ListingOfferPublic:
    return ListingOfferPublic(
        id=offer.id, listing_id=offer.listing_id, created_at=offer.created_at, policy=listing_offer_document(offer)
    )


@router.post("/listings/{listing_id}/offers", response_model=ListingOfferPublic, status_code=status.HTTP_201_CREATED)
def create_listing_offer(
    listing_id: str, body: OfferCreate, caller: SignedIn, session: DbSession, settings: CatalogConfig
) -> ListingOfferPublic:
    """Add an ODRL offer in pdr's profile to a listed product (its entity or the registry's staff)."""
    document = body.model_dump(mode="json", by_alias=True, exclude_none=True)
    offer = listing_offers.create_listing_offer(session, caller, listing_id, document, fee_cap=settings.listing_fee_cap)
    return _listing_public(offer)


@router.get("/listings/{listing_id}/offers", response_model=Page[ListingOfferPublic])
def list_listing_offers(
    listing_id: str, caller: AnyCaller, session: DbSession, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[ListingOfferPublic]:
    """The offers of a listing the caller may see."""
    page = listing_offers.list_listing_offers(session, caller, listing_id, limit=limit, cursor=cursor)
    items = [_listing_public(o) for o in page.items]
    return Page[ListingOfferPublic](items=items, count=page.count, next_cursor=page.next_cursor)


@router.post("/listings/{listing_id}/offers/explain", response_model=ExplanationPublic)
def explain_listing_offers(
    listing_id: str, body: ProspectiveRequest, caller: AnyCaller, session: DbSession
) -> ExplanationPublic:
    """How each offer of the listing would judge a prospective request: every term, pass or fail, and why."""
    return listing_offers.explain_listing_offers(session, caller, listing_id, body)


@router.get("/listings/{listing_id}/offers/{offer_id}", response_model=ListingOfferPublic)
def read_listing_offer(listing_id: str, offer_id: str, caller: AnyCaller, session: DbSession) -> ListingOfferPublic:
    """One offer of a listing the caller may see."""
    return _listing_public(listing_offers.get_listing_offer(session, caller, listing_id, offer_id))


@router.delete("/listings/{listing_id}/offers/{offer_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_listing_offer(listing_id: str, offer_id: str, caller: SignedIn, session: DbSession) -> Response:
    """Take a listing's offer back (its product's entity or the registry's staff)."""
    listing_offers.delete_listing_offer(session, caller, listing_id, offer_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@protocol_router.get("/.well-known/dspace-version")
def dspace_version() -> JSONResponse:
    """The Dataspace Protocol versions served here and the base path of each (unauthenticated)."""
    return JSONResponse(version_document())


@protocol_router.post(PROTOCOL_PATH + "/catalog/request", responses=PROTOCOL_ERRORS)
def catalog_request(
    body: CatalogRequestMessage,
    session: DbSession,
    base: BaseUrl,
    limit: Limit = CATALOG_PAGE,
    cursor: Cursor = None,
) -> JSONResponse:
    """A CatalogRequestMessage answered with a Catalog; further pages are named by the Link header (rel="next")."""
    document, next_cursor = protocol.catalog_page(session, base, body, limit=limit, cursor=cursor)
    headers = {}
    if next_cursor is not None:
        query = urlencode({"limit": limit, "cursor": next_cursor})
        headers["Link"] = f'<{base}{PROTOCOL_PATH}/catalog/request?{query}>; rel="next"'
    return JSONResponse(document, headers=headers)


@protocol_router.get(PROTOCOL_PATH + "/catalog/datasets/{dataset_id}", responses=PROTOCOL_ERRORS)
def catalog_dataset(dataset_id: str, caller: AnyCaller, session: DbSession, base: BaseUrl) -> JSONResponse:
    """A Dataset with its offers (the binding's dataset request); its @id or its bare id."""
    return JSONResponse(protocol.protocol_dataset(session, caller, base, dataset_id))


negotiation_protocol_router = APIRouter(tags=["dataspace protocol"], route_class=NegotiationRoute)
NEGOTIATION_ERRORS = protocol_errors("ContractNegotiationError", ("providerPid", "consumerPid"))
NEGOTIATION = PROTOCOL_PATH + "/negotiations/{provider_pid}"


def _negotiation(negotiation: Negotiation, steps: list[NegotiationStep] | None = None) -> NegotiationPublic:
    shown = NegotiationPublic(
        provider_pid=provider_pid(negotiation),
        offer=negotiation_protocol.offer_document(negotiation),
        **negotiation.model_dump(exclude={"offer", "offer_iri", "callback_address"}),
    )
    if steps is not None:
        shown.steps = [NegotiationStepPublic.model_validate(step, from_attributes=True) for step in steps]
    return shown


@router.post("/negotiations", response_model=NegotiationPublic, status_code=status.HTTP_201_CREATED)
def create_negotiation(
    body: NegotiationCreate, caller: SignedIn, session: DbSession, rules: NegotiationRules
) -> NegotiationPublic:
    """Request an offer of a conditional dataset, as it stands or with your own terms: a negotiation, REQUESTED."""
    terms = body.terms.model_dump(mode="json", by_alias=True, exclude_none=True) if body.terms else None
    opening = negotiations.Opening(offer_id=body.offer_id, terms=terms)
    return _negotiation(negotiations.start_negotiation(session, caller, opening, rules))


@router.get("/negotiations", response_model=Page[NegotiationPublic])
def list_negotiations(
    caller: SignedIn,
    session: DbSession,
    state: State | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[NegotiationPublic]:
    """Your negotiations as consumer, your entity's as provider (the staff: all), newest first."""
    page = negotiations.list_negotiations(session, caller, state=state, limit=limit, cursor=cursor)
    items = [_negotiation(n) for n in page.items]
    return Page[NegotiationPublic](items=items, count=page.count, next_cursor=page.next_cursor)


@router.get("/negotiations/{negotiation_id}", response_model=NegotiationPublic)
def read_negotiation(negotiation_id: str, caller: SignedIn, session: DbSession) -> NegotiationPublic:
    """A negotiation with every step: who took it, when, and the protocol message it was."""
    negotiation = negotiations.visible_negotiation(session, caller, negotiation_id)
    return _negotiation(negotiation, negotiations.steps_of(session, negotiation))


def _step(
    session: DbSession, caller: SignedIn, negotiation_id: str, step: Step, rules: Rules, **extra: Any
) -> NegotiationPublic:
    negotiation = negotiations.take_step(session, caller, negotiation_id, step, rules, **extra)
    return _negotiation(negotiation, negotiations.steps_of(session, negotiation))


@router.post("/negotiations/{negotiation_id}/offer", response_model=NegotiationPublic)
def counter_offer(
    negotiation_id: str, body: NegotiationTerms, caller: SignedIn, session: DbSession, rules: NegotiationRules
) -> NegotiationPublic:
    """New terms: the provider's counter-offer (REQUESTED -> OFFERED) or the consumer's (OFFERED -> REQUESTED)."""
    negotiation = negotiations.visible_negotiation(session, caller, negotiation_id)
    step = Step.request if caller.account_id == negotiation.account_id else Step.offer
    terms = body.terms.model_dump(mode="json", by_alias=True, exclude_none=True)
    return _step(session, caller, negotiation_id, step, rules, terms=terms)


@router.post("/negotiations/{negotiation_id}/accept", response_model=NegotiationPublic)
def accept(negotiation_id: str, caller: SignedIn, session: DbSession, rules: NegotiationRules) -> NegotiationPublic:
    """The consumer accepts the provider's latest offer (OFFERED -> ACCEPTED)."""
    return _step(session, caller, negotiation_id, Step.accept, rules)


@router.post("/negotiations/{negotiation_id}/agree", response_model=NegotiationPublic)
def agree(negotiation_id: str, caller: SignedIn, session: DbSession, rules: NegotiationRules) -> NegotiationPublic:
    """The provider agrees to the latest offer (REQUESTED or ACCEPTED -> AGREED): the agreement is made."""
    return _step(session, caller, negotiation_id, Step.agree, rules)


@router.post("/negotiations/{negotiation_id}/verify", response_model=NegotiationPublic)
def verify(negotiation_id: str, caller: SignedIn, session: DbSession, rules: NegotiationRules) -> NegotiationPublic:
    """The consumer verifies the agreement (AGREED -> VERIFIED)."""
    return _step(session, caller, negotiation_id, Step.verify, rules)


@router.post("/negotiations/{negotiation_id}/finalize", response_model=NegotiationPublic)
def finalize(negotiation_id: str, caller: SignedIn, session: DbSession, rules: NegotiationRules) -> NegotiationPublic:
    """The provider finalizes (VERIFIED -> FINALIZED): the agreement's grant is made and downloads may start."""
    return _step(session, caller, negotiation_id, Step.finalize, rules)


@router.post("/negotiations/{negotiation_id}/terminate", response_model=NegotiationPublic)
def terminate(
    negotiation_id: str, body: NegotiationTermination, caller: SignedIn, session: DbSession, rules: NegotiationRules
) -> NegotiationPublic:
    """Either party ends an open negotiation, with a reason."""
    return _step(session, caller, negotiation_id, Step.terminate, rules, reason=body.reason)


@router.get("/agreements/{agreement_id}", response_model=AgreementBundle)
def read_agreement(agreement_id: str, caller: SignedIn, session: DbSession) -> AgreementBundle:
    """A signed agreement's bundle for its parties and the staff: the credential, its log proof and its status."""
    row = negotiations.visible_agreement(session, caller, agreement_id)
    return AgreementBundle.model_validate(agreement_credentials.bundle(session, row))


@router.get("/agreements/{agreement_id}/usage", response_model=AgreementUsage)
def agreement_usage(agreement_id: str, caller: SignedIn, session: DbSession) -> AgreementUsage:
    """What an agreement was used for (its parties and the staff): downloads and bytes under its grant, per transfer."""
    return usage.agreement_usage(session, caller, agreement_id)


@router.post("/agreements/{agreement_id}/terminate", response_model=AgreementBundle)
def terminate_agreement(
    agreement_id: str, body: NegotiationTermination, caller: SignedIn, session: DbSession, rules: NegotiationRules
) -> AgreementBundle:
    """Either party ends an agreement, with a reason: its status is set in the issuer's list and logged."""
    status_ = agreement_credentials.TERMINATED
    row = negotiations.end_agreement(session, caller, agreement_id, status_, body.reason, rules)
    return AgreementBundle.model_validate(agreement_credentials.bundle(session, row))


@router.post("/agreements/{agreement_id}/retire", response_model=AgreementBundle)
def retire_agreement(
    agreement_id: str, body: NegotiationTermination, caller: SignedIn, session: DbSession, rules: NegotiationRules
) -> AgreementBundle:
    """The provider retires an agreement, with a reason: its status is set in the issuer's list and logged."""
    status_ = agreement_credentials.RETIRED
    row = negotiations.end_agreement(session, caller, agreement_id, status_, body.reason, rules)
    return AgreementBundle.model_validate(agreement_credentials.bundle(session, row))


def _ack(negotiation: Negotiation, status_code: int = status.HTTP_200_OK) -> JSONResponse:
    return JSONResponse(negotiation_protocol.negotiation_document(negotiation), status_code=status_code)


@negotiation_protocol_router.post(
    PROTOCOL_PATH + "/negotiations/request", status_code=status.HTTP_201_CREATED, responses=NEGOTIATION_ERRORS
)
def dsp_request(body: ContractRequestIn, caller: SignedIn, session: DbSession, rules: NegotiationRules) -> JSONResponse:
    """An initiating ContractRequestMessage: a new negotiation (201, ContractNegotiation REQUESTED)."""
    return _ack(negotiation_messages.open_negotiation(session, caller, body, rules), status.HTTP_201_CREATED)


@negotiation_protocol_router.get(NEGOTIATION, responses=NEGOTIATION_ERRORS)
def dsp_negotiation(provider_pid: str, caller: SignedIn, session: DbSession) -> JSONResponse:
    """A negotiation's ContractNegotiation (its consumer, its provider entity's members or the staff)."""
    return _ack(negotiation_messages.found(session, caller, provider_pid))


@negotiation_protocol_router.post(NEGOTIATION + "/request", responses=NEGOTIATION_ERRORS)
def dsp_counter_request(
    provider_pid: str, body: ContractRequestIn, caller: SignedIn, session: DbSession, rules: NegotiationRules
) -> JSONResponse:
    """The consumer's ContractRequestMessage answering the provider's offer (OFFERED -> REQUESTED)."""
    return _ack(negotiation_messages.counter_request(session, caller, provider_pid, body, rules))


@negotiation_protocol_router.post(NEGOTIATION + "/events", responses=NEGOTIATION_ERRORS)
def dsp_event(
    provider_pid: str, body: NegotiationEventIn, caller: SignedIn, session: DbSession, rules: NegotiationRules
) -> JSONResponse:
    """The consumer's ContractNegotiationEventMessage ACCEPTED (OFFERED -> ACCEPTED)."""
    return _ack(negotiation_messages.event(session, caller, provider_pid, body, rules))


@negotiation_protocol_router.post(NEGOTIATION + "/agreement/verification", responses=NEGOTIATION_ERRORS)
def dsp_verification(
    provider_pid: str, body: AgreementVerificationIn, caller: SignedIn, session: DbSession, rules: NegotiationRules
) -> JSONResponse:
    """The consumer's ContractAgreementVerificationMessage (AGREED -> VERIFIED)."""
    return _ack(negotiation_messages.verification(session, caller, provider_pid, body, rules))


@negotiation_protocol_router.post(NEGOTIATION + "/termination", responses=NEGOTIATION_ERRORS)
def dsp_termination(
    provider_pid: str, body: NegotiationTerminationIn, caller: SignedIn, session: DbSession, rules: NegotiationRules
) -> JSONResponse:
    """The consumer's ContractNegotiationTerminationMessage (any open state -> TERMINATED)."""
    return _ack(negotiation_messages.termination(session, caller, provider_pid, body, rules))
