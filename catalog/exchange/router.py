"""HTTP routes of the exchange: access requests, grants, download records, listings, trade vouchers and annual
disclosures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import StreamingResponse

from auth.dependencies import AnyCaller, Cursor, DbSession, Limit, SignedIn
from catalog.exchange import disclosure as disclosures
from catalog.exchange import download_records, grants, listings, requests, vouchers
from catalog.exchange.models import AccessRequest, Listing, Voucher
from catalog.exchange.schemas import (
    AccessRequestCreate,
    AccessRequestPublic,
    Decision,
    DeliveryMode,
    DisclosurePublic,
    DownloadPublic,
    GrantPublic,
    GrantStatus,
    ListingCreate,
    ListingPublic,
    ListingState,
    Reason,
    RequestState,
    VoucherPublic,
)
from catalog.web.dependencies import CatalogConfig, Sessions
from storage.pages import Page
from storage.pagination import DEFAULT_LIMIT

router = APIRouter(prefix="/api/v1", tags=["exchange"])


# ---------------------------------------------------------------- access requests


@router.post("/access-requests", response_model=AccessRequestPublic, status_code=201)
def create_access_request(body: AccessRequestCreate, caller: SignedIn, session: DbSession) -> AccessRequest:
    """Apply for a conditional dataset or a registered product: one scenario per request."""
    return requests.create_request(session, caller, body)


@router.get("/access-requests", response_model=Page[AccessRequestPublic])
def list_access_requests(
    caller: SignedIn,
    session: DbSession,
    state: RequestState | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[AccessRequestPublic]:
    """One's own requests, one's entity's incoming ones, or all for the staff."""
    page = requests.list_requests(session, caller, state=state, limit=limit, cursor=cursor)
    return Page[AccessRequestPublic].model_validate(page, from_attributes=True)


@router.get("/access-requests/{request_id}", response_model=AccessRequestPublic)
def get_access_request(request_id: str, caller: SignedIn, session: DbSession) -> AccessRequest:
    """One request, for its requester, its providing entity and the staff."""
    return requests.visible_request(session, caller, request_id)


@router.post("/access-requests/{request_id}/approve", response_model=AccessRequestPublic)
def approve_access_request(
    request_id: str, caller: SignedIn, session: DbSession, settings: CatalogConfig, body: Decision | None = None
) -> AccessRequest:
    """The providing entity approves (optionally shortening the period and setting a quota); operators second."""
    return requests.approve_request(
        session, caller, request_id, body or Decision(), operator_second=settings.access_operator_second
    )


@router.post("/access-requests/{request_id}/reject", response_model=AccessRequestPublic)
def reject_access_request(request_id: str, body: Reason, caller: SignedIn, session: DbSession) -> AccessRequest:
    """The providing entity refuses, with a reason."""
    return requests.reject_request(session, caller, request_id, body.reason)


# ---------------------------------------------------------------- grants


@router.get("/grants", response_model=Page[GrantPublic])
def list_grants(
    caller: SignedIn,
    session: DbSession,
    state: GrantStatus | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[GrantPublic]:
    """One's own grants, those one's entity gave, or all for the staff; `state` picks those of one status."""
    page = grants.list_grants(session, caller, state=state, limit=limit, cursor=cursor)
    return Page[GrantPublic].model_validate(page, from_attributes=True)


@router.get("/grants/{grant_id}", response_model=GrantPublic)
def get_grant(grant_id: str, caller: SignedIn, session: DbSession) -> GrantPublic:
    """One grant, for its holder, its providing entity and the staff."""
    return grants.shown_grant(session, caller, grant_id)


@router.post("/grants/{grant_id}/revoke", response_model=GrantPublic)
def revoke_grant(grant_id: str, body: Reason, caller: SignedIn, session: DbSession) -> GrantPublic:
    """The providing entity or an operator revokes a grant, with a reason."""
    return grants.present(session, grants.revoke_grant(session, caller, grant_id, body.reason))


# ---------------------------------------------------------------- downloads


def _csv_response(open_session: Sessions, caller: SignedIn, dataset_id: str | None) -> StreamingResponse:
    def lines() -> Iterator[bytes]:
        # Its own read session: the rows stream after the request's session has closed.
        with open_session(write=False) as session:
            for line in download_records.downloads_csv(session, caller, dataset_id=dataset_id):
                yield line.encode()

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="downloads.csv"', "Cache-Control": "private"},
    )


@router.get("/downloads", response_model=Page[DownloadPublic])
def list_downloads(
    open_session: Sessions,
    caller: SignedIn,
    session: DbSession,
    dataset_id: Annotated[str | None, Query(max_length=26)] = None,
    format: Literal["json", "csv"] = "json",
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[DownloadPublic] | StreamingResponse:
    """Download records: one's own, those of one's entity's datasets, or all for the staff; `?format=csv`."""
    if format == "csv":
        return _csv_response(open_session, caller, dataset_id)
    page = download_records.list_downloads(session, caller, dataset_id=dataset_id, limit=limit, cursor=cursor)
    return Page[DownloadPublic].model_validate(page, from_attributes=True)


@router.get("/downloads.csv", response_class=StreamingResponse)
def export_downloads(
    open_session: Sessions, caller: SignedIn, dataset_id: Annotated[str | None, Query(max_length=26)] = None
) -> StreamingResponse:
    """The download records the caller may see, as CSV."""
    return _csv_response(open_session, caller, dataset_id)


# ---------------------------------------------------------------- listings


@router.post("/listings", response_model=ListingPublic, status_code=201)
def create_listing(body: ListingCreate, caller: SignedIn, session: DbSession, settings: CatalogConfig) -> Listing:
    """List a registered product (otherwise 409: no registration, no trading), priced within the fee cap."""
    return listings.create_listing(session, caller, body, fee_cap=settings.listing_fee_cap)


@router.get("/listings", response_model=Page[ListingPublic])
def search_listings(
    caller: AnyCaller,
    session: DbSession,
    q: Annotated[str | None, Query(max_length=200)] = None,
    state: ListingState | None = None,
    delivery_mode: DeliveryMode | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[ListingPublic]:
    """Search listings; anonymous callers and consumers see listed ones only."""
    page = listings.search_listings(
        session, caller, q=q, state=state, delivery_mode=delivery_mode, limit=limit, cursor=cursor
    )
    return Page[ListingPublic].model_validate(page, from_attributes=True)


@router.get("/listings/{listing_id}", response_model=ListingPublic)
def get_listing(listing_id: str, caller: AnyCaller, session: DbSession) -> Listing:
    """One listing; a suspended or delisted one only for its entity and the staff."""
    return listings.visible_listing(session, caller, listing_id)


@router.post("/listings/{listing_id}/{action}", response_model=ListingPublic)
def change_listing(
    listing_id: str,
    action: Annotated[Literal["suspend", "relist", "delist"], Path()],
    caller: SignedIn,
    session: DbSession,
    body: Reason | None = None,
) -> Listing:
    """Suspend, relist or delist a listing: its product's entity or the staff."""
    return listings.change_listing(session, caller, listing_id, action, body.reason if body else None)


# ---------------------------------------------------------------- annual disclosure


@router.get("/disclosures/{entity_id}/{year}.csv", response_class=Response)
def disclosure_csv(entity_id: str, year: int, session: DbSession) -> Response:
    """An operator entity's annual disclosure as CSV."""
    report = disclosures.disclosure(session, entity_id, year)
    return Response(
        disclosures.disclosure_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="disclosure-{year}.csv"'},
    )


@router.get("/disclosures/{entity_id}/{year}", response_model=DisclosurePublic)
def disclosure(entity_id: str, year: int, session: DbSession) -> DisclosurePublic:
    """An operator entity's annual disclosure: resources it may use, its products and services, their fees, and the
    trade vouchers of the year it is a party to."""
    return disclosures.disclosure(session, entity_id, year)


# ---------------------------------------------------------------- trade vouchers


@router.get("/vouchers", response_model=Page[VoucherPublic])
def list_vouchers(
    caller: SignedIn, session: DbSession, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[VoucherPublic]:
    """Trade vouchers: one's own as consumer, one's entity's as provider, or all for the staff; newest first."""
    page = vouchers.list_vouchers(session, caller, limit=limit, cursor=cursor)
    return Page[VoucherPublic].model_validate(page, from_attributes=True)


@router.get("/vouchers/{number}", response_model=VoucherPublic)
def get_voucher(number: Annotated[str, Path(max_length=40)], caller: SignedIn, session: DbSession) -> Voucher:
    """One voucher by its number (a wrong check character is refused), for its parties and the staff."""
    return vouchers.visible_voucher(session, caller, number)
