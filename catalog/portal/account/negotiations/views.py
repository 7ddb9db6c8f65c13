"""A consumer's negotiations as its console shows them: those it started, read through the data space's own
visibility rule and narrowed to the caller as consumer, and a dataset's offers negotiated as they stand."""

from __future__ import annotations

from sqlmodel import Session

from auth.caller import Caller
from catalog.dataspace import negotiations
from catalog.dataspace.models import Negotiation
from catalog.dataspace.negotiation import Side
from catalog.dataspace.negotiations import Opening, Rules
from catalog.exchange.visibility import listable
from catalog.portal.negotiations import ROWS, NegotiationList, negotiation_list
from storage.exceptions import NotFound
from storage.pagination import paginate_by_id


def own_negotiations(session: Session, caller: Caller, cursor: str | None) -> NegotiationList:
    """The negotiations the caller started as consumer, newest first: not those its entity is asked for."""
    statement = listable(caller, Negotiation, Negotiation.account_id, Negotiation.provider_entity_id).where(
        Negotiation.account_id == caller.account_id
    )
    page = paginate_by_id(session, statement, Negotiation.id, limit=ROWS, cursor=cursor)
    return negotiation_list(session, page, Side.consumer)


def own_negotiation(session: Session, caller: Caller, negotiation_id: str) -> Negotiation:
    """A negotiation the caller started; anyone else's is refused as if it did not exist."""
    negotiation = negotiations.visible_negotiation(session, caller, negotiation_id)
    if caller.account_id is None or negotiation.account_id != caller.account_id:
        raise NotFound("no such negotiation")
    return negotiation


def start_on_offer(session: Session, caller: Caller, dataset_id: str, offer_id: str, rules: Rules) -> Negotiation:
    """Request one of a dataset's offers as it stands: a negotiation, REQUESTED (or further, if agreed at once)."""
    opening = Opening(offer_id=offer_id, dataset_id=dataset_id)
    return negotiations.start_negotiation(session, caller, opening, rules)
