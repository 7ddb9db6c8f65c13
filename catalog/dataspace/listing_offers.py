"""Use cases of a listed product's offers: write (checked against the profile and the listing), list, read, delete,
and explain. The product's entity and the registry's staff write them; whoever sees the listing reads them.

An offer agrees with its listing: a use category it fixes is the listing's, and a public-welfare listing's offers
carry no fee.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlmodel import Session, func, select

from auth import audit
from auth.caller import Caller
from catalog.dataspace.agreements import fee_of
from catalog.dataspace.documents import OFFER_PREFIX
from catalog.dataspace.explain import Prospect, explain
from catalog.dataspace.models import ListingOffer
from catalog.dataspace.policies import Policy, read_policy
from catalog.dataspace.profile import PROFILE
from catalog.dataspace.schemas import ExplanationPublic, OfferExplanation, ProspectiveRequest
from catalog.dataspace.service import MAX_OFFERS, check_public, prospect_of
from catalog.exchange.listings import visible_listing
from catalog.exchange.models import Listing
from catalog.exchange.schemas import ListingState, UseCategory
from registry.access import is_member
from storage.db import now_of
from storage.exceptions import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from storage.pagination import PageOf, paginate_by_id


def _agrees_with(policy: Policy, listing: Listing) -> None:
    """Refuse terms the listing contradicts: another use category, or a fee on a free public-welfare listing."""
    categories = {value for c in policy.constraints("useCategory") for value in _wire(c.right.wire)}
    if categories and categories != {listing.use_category}:
        raise InvalidInput(
            f"the listing is for {listing.use_category} use; its offers fix no other use category",
            errors=[FieldProblem("permission", f"useCategory must be {listing.use_category}")],
        )
    if listing.use_category == UseCategory.public_welfare and fee_of(policy) is not None:
        raise InvalidInput(
            "a public-welfare listing is free: its offers carry no fee",
            errors=[FieldProblem("obligation", "no compensate duty")],
        )


def _wire(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def create_listing_offer(
    session: Session, caller: Caller, listing_id: str, document: dict[str, Any], *, fee_cap: Decimal
) -> ListingOffer:
    """Add an offer to a listing (its product's entity or the staff), refused (422, naming each term) unless the
    profile and the listing allow it."""
    listing = visible_listing(session, caller, listing_id)
    if not (caller.is_staff or is_member(caller, listing.entity_id)):
        raise Forbidden("only the product's entity and the registry's staff write a listing's offers")
    if listing.state == ListingState.delisted:
        raise Conflict("the listing is delisted: it takes no offers")
    policy = read_policy(document, fee_cap=fee_cap)
    _agrees_with(policy, listing)
    counted = select(func.count()).select_from(ListingOffer).where(ListingOffer.listing_id == listing.id)
    if int(session.exec(counted).one()) >= MAX_OFFERS:
        raise Conflict(f"a listing carries at most {MAX_OFFERS} offers; delete one first")
    offer = ListingOffer(
        listing_id=listing.id, policy=policy.document(), created_by=caller.account_id, created_at=now_of(session)
    )
    session.add(offer)
    audit.record(session, caller, "offer.create", f"listing:{listing.id}")
    session.commit()
    return offer


def list_listing_offers(
    session: Session, caller: Caller, listing_id: str, *, limit: int, cursor: str | None
) -> PageOf[ListingOffer]:
    """The offers of a listing the caller may see, oldest first."""
    listing = visible_listing(session, caller, listing_id)
    statement = select(ListingOffer).where(ListingOffer.listing_id == listing.id)
    return paginate_by_id(session, statement, ListingOffer.id, limit=limit, cursor=cursor, newest_first=False)


def get_listing_offer(session: Session, caller: Caller, listing_id: str, offer_id: str) -> ListingOffer:
    """One offer of a listing the caller may see."""
    listing = visible_listing(session, caller, listing_id)
    offer = session.get(ListingOffer, offer_id)
    if offer is None or offer.listing_id != listing.id:
        raise NotFound("no such offer")
    return offer


def delete_listing_offer(session: Session, caller: Caller, listing_id: str, offer_id: str) -> None:
    """Take a listing's offer back (its product's entity or the staff)."""
    offer = get_listing_offer(session, caller, listing_id, offer_id)
    listing = visible_listing(session, caller, listing_id)
    if not (caller.is_staff or is_member(caller, listing.entity_id)):
        raise Forbidden("only the product's entity and the registry's staff take a listing's offers back")
    session.delete(offer)
    audit.record(session, caller, "offer.delete", f"listing:{listing.id}")
    session.commit()


def explain_listing_offers(
    session: Session, caller: Caller, listing_id: str, data: ProspectiveRequest
) -> ExplanationPublic:
    """How each offer of a listing would judge a prospective request, term by term."""
    listing = visible_listing(session, caller, listing_id)
    prospect: Prospect = prospect_of(data)
    offers = session.exec(select(ListingOffer).where(ListingOffer.listing_id == listing.id).order_by(ListingOffer.id))
    results = []
    for offer in offers:
        passes, checks = explain(read_policy(offer.policy), prospect)
        results.append(OfferExplanation(offer_id=offer.id, passes=passes, checks=[check_public(c) for c in checks]))
    return ExplanationPublic(listing_id=listing.id, passes=any(r.passes for r in results), offers=results)


LISTING_PREFIX = "urn:pdr:listing:"


def listing_offer_document(offer: ListingOffer) -> dict[str, Any]:
    """A listing's offer as an ODRL Offer of pdr's profile, its target the listed product's listing."""
    return {
        "@id": OFFER_PREFIX + offer.id,
        "@type": "Offer",
        "profile": PROFILE,
        "target": LISTING_PREFIX + offer.listing_id,
        **offer.policy,
    }
