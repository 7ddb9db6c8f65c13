"""HTTP routes of the data space: a dataset's offers and their explanation (native API), pdr's ODRL profile, and
the Dataspace Protocol's version metadata and catalog (HTTPS binding, under /dsp)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Response, status
from fastapi.responses import JSONResponse

from auth.dependencies import AnyCaller, Cursor, DbSession, Limit, SignedIn
from catalog.dataspace import protocol, service
from catalog.dataspace.dependencies import ProtocolRoute
from catalog.dataspace.documents import PROTOCOL_PATH, offer_document, version_document
from catalog.dataspace.models import DatasetOffer
from catalog.dataspace.profile import describe
from catalog.dataspace.schemas import (
    CatalogRequestMessage,
    ExplanationPublic,
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
CATALOG_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["@context", "@type"],
    "properties": {
        "@context": {"type": "array", "items": {"type": "string"}},
        "@type": {"type": "string", "const": "CatalogError"},
        "code": {"type": "string"},
        "reason": {"type": "array", "items": {"type": "string"}},
    },
}
# The protocol's errors are CatalogErrors; those the middleware answers before a route runs stay problems.
PROTOCOL_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {
        "description": "a CatalogError (or a problem, when refused before the protocol's route)",
        "content": {
            "application/json": {"schema": CATALOG_ERROR_SCHEMA},
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}},
        },
    }
    for code in (400, 401, 404)
}


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
