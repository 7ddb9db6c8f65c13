"""Listings: registered products offered on the exchange, free for public welfare and capped for industry."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlsplit

from sqlalchemy import or_
from sqlmodel import Session, col, select

from auth import audit
from auth.caller import Caller
from auth.roles import Role
from catalog.exchange.models import Listing
from catalog.exchange.schemas import (
    DeliveryMode,
    ListingCreate,
    ListingState,
    UseCategory,
)
from catalog.exchange.visibility import visible_product
from registry.access import is_member
from registry.enums import SubjectStatus
from registry.models import DataProduct
from storage.db import now_of
from storage.exceptions import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from storage.inputs import url_problem
from storage.pagination import PageOf, paginate_by_id


def _may_manage_listing(caller: Caller, entity_id: str) -> bool:
    return caller.is_staff or is_member(caller, entity_id)


def create_listing(session: Session, caller: Caller, data: ListingCreate, *, fee_cap: Decimal) -> Listing:
    """List a registered product; free for public-welfare use, capped for industry use."""
    if not (caller.is_staff or caller.has_role(Role.provider)):
        raise Forbidden("only providers and the registry's staff list products")
    product = visible_product(session, caller, data.product_id)
    if not _may_manage_listing(caller, product.entity_id):
        raise Forbidden("only the product's entity lists it")
    if product.status != SubjectStatus.registered:
        raise Conflict("the product is not registered: no registration, no trading")
    if data.use_category == UseCategory.public_welfare and data.price != 0:
        raise InvalidInput(
            "products for public welfare are free", errors=[FieldProblem("price", "must be 0 for public_welfare")]
        )
    if data.use_category == UseCategory.industry and data.price > fee_cap:
        raise InvalidInput(
            f"the price is over the fee cap of {fee_cap} CNY for public-data products",
            errors=[FieldProblem("price", f"at most {fee_cap}")],
        )
    _check_service(data)
    now = now_of(session)
    listing = Listing(
        product_id=product.id,
        entity_id=product.entity_id,
        title=product.name,
        delivery_mode=data.delivery_mode.value,
        pricing_unit=data.pricing_unit,
        price=data.price,
        currency=data.currency,
        use_category=data.use_category.value,
        service_url=data.service_url,
        created_by=caller.account_id,
        created_at=now,
        updated_at=now,
    )
    session.add(listing)
    audit.record(session, caller, "listing.create", listing.id)
    session.commit()
    return listing


def _check_service(data: ListingCreate) -> None:
    """A service URL makes an API listing a data service called through pdr; no other kind of listing has one."""
    if data.service_url is None:
        return
    if data.delivery_mode != DeliveryMode.api:
        raise InvalidInput(
            "only a data service (delivery mode api) has a service URL",
            errors=[FieldProblem("service_url", "leave it out, or list the product with delivery_mode api")],
        )
    parts = urlsplit(data.service_url)
    problem = url_problem(data.service_url) or (
        "must have no query or fragment" if parts.query or parts.fragment else None
    )
    if problem is not None:
        raise InvalidInput(
            "the service URL is not a base URL pdr can forward to", errors=[FieldProblem("service_url", problem)]
        )


def visible_listing(session: Session, caller: Caller, listing_id: str) -> Listing:
    """A listing: listed ones are public, the others only to their entity and the staff."""
    listing = session.get(Listing, listing_id)
    if listing is None or (listing.state != ListingState.listed and not _may_manage_listing(caller, listing.entity_id)):
        raise NotFound("no such listing")
    return listing


_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "suspend": (frozenset({ListingState.listed}), ListingState.suspended),
    "relist": (frozenset({ListingState.suspended}), ListingState.listed),
    "delist": (frozenset({ListingState.listed, ListingState.suspended}), ListingState.delisted),
}

LISTING_ACTIONS = tuple(_TRANSITIONS)


def change_listing(session: Session, caller: Caller, listing_id: str, action: str, reason: str | None) -> Listing:
    """Suspend, relist or delist: the product's entity or the staff."""
    listing = visible_listing(session, caller, listing_id)
    if not _may_manage_listing(caller, listing.entity_id):
        raise Forbidden("only the product's entity and the registry's staff change a listing")
    if action not in _TRANSITIONS:
        raise NotFound("no such action")
    sources, target = _TRANSITIONS[action]
    if listing.state not in sources:
        raise Conflict(f"a {listing.state} listing cannot be {action}ed")
    if target == ListingState.listed:
        product = session.get(DataProduct, listing.product_id)
        if product is None or product.status != SubjectStatus.registered:
            raise Conflict("the product is no longer registered: no registration, no trading")
    listing.state = target
    listing.state_reason = reason
    listing.updated_at = now_of(session)
    audit.record(session, caller, f"listing.{action}", listing.id)
    session.commit()
    return listing


def search_listings(
    session: Session,
    caller: Caller,
    *,
    q: str | None,
    state: str | None,
    delivery_mode: str | None,
    limit: int,
    cursor: str | None,
) -> PageOf[Listing]:
    """Listings by text, state and delivery mode; others' non-listed ones stay hidden."""
    statement = select(Listing)
    if caller.is_staff:
        pass
    elif caller.has_role(Role.provider) and caller.entity_id:
        statement = statement.where(
            or_(col(Listing.state) == ListingState.listed, col(Listing.entity_id) == caller.entity_id)
        )
    else:
        statement = statement.where(Listing.state == ListingState.listed)
    if state:
        statement = statement.where(Listing.state == state)
    if delivery_mode:
        statement = statement.where(Listing.delivery_mode == delivery_mode)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(col(Listing.title).ilike(pattern, escape="\\"))
    return paginate_by_id(session, statement, Listing.id, limit=limit, cursor=cursor)
