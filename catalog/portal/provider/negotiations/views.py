"""The negotiations asked of the entity, read through the data space's own visibility rule and narrowed to the
caller's entity as provider."""

from __future__ import annotations

from sqlmodel import Session

from auth.caller import Caller
from catalog.dataspace import negotiations
from catalog.dataspace.models import Negotiation
from catalog.dataspace.negotiation import Side
from catalog.exchange.visibility import listable
from catalog.portal.negotiations import ROWS, NegotiationList, negotiation_list
from catalog.portal.provider.views import own_entity
from registry.models import Entity
from storage.exceptions import NotFound
from storage.pagination import paginate_by_id


def entity_negotiations(session: Session, caller: Caller, entity: Entity, cursor: str | None) -> NegotiationList:
    """The negotiations for the entity's datasets, newest first, as GET /api/v1/negotiations lists them to its
    members: not those its members started as consumers."""
    own_entity(caller, entity)
    statement = listable(caller, Negotiation, Negotiation.account_id, Negotiation.provider_entity_id).where(
        Negotiation.provider_entity_id == entity.id
    )
    page = paginate_by_id(session, statement, Negotiation.id, limit=ROWS, cursor=cursor)
    return negotiation_list(session, page, Side.provider)


def entity_negotiation(session: Session, caller: Caller, entity: Entity, negotiation_id: str) -> Negotiation:
    """A negotiation for one of the entity's datasets; any other is refused as if it did not exist."""
    own_entity(caller, entity)
    negotiation = negotiations.visible_negotiation(session, caller, negotiation_id)
    if negotiation.provider_entity_id != entity.id:
        raise NotFound("no such negotiation")
    return negotiation
