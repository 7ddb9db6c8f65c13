"""The console's front page: the caller's entity and how much it holds, each count read as the API's lists read it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from auth.caller import Caller
from catalog.datasets.models import Dataset
from catalog.exchange.grants import in_status
from catalog.exchange.models import AccessGrant, AccessRequest
from catalog.exchange.schemas import GrantStatus, RequestState
from catalog.exchange.visibility import listable
from registry.access import may_read_private
from registry.models import DataProduct, DataResource, Entity
from registry.registrations import list_registrations
from storage.db import now_of
from storage.exceptions import NotFound

ENTITY_FIELDS = ("name", "name_en", "kind", "uscc", "contact_name", "contact_phone", "contact_email", "address")


def entity_form_defaults() -> dict[str, Any]:
    """An empty entity form."""
    return dict.fromkeys(ENTITY_FIELDS, "")


@dataclass(frozen=True)
class Overview:
    """How much the entity holds and what waits for it."""

    resources: int
    products: int
    registrations: int
    datasets: int
    pending_requests: int
    active_grants: int


def _count(session: Session, statement: Any) -> int:
    """How many rows a statement selects."""
    return int(session.exec(select(func.count()).select_from(statement.order_by(None).subquery())).one())


def own_entity(caller: Caller, entity: Entity) -> None:
    """Refuse a record of another entity as if it did not exist: the console shows one's own only."""
    if not may_read_private(caller, entity.id):
        raise NotFound("no such entity")


def overview(session: Session, caller: Caller, entity: Entity) -> Overview:
    """The entity's counts: its records, its open access requests and its grants in force."""
    own_entity(caller, entity)
    requests = listable(caller, AccessRequest, AccessRequest.account_id, AccessRequest.provider_entity_id).where(
        AccessRequest.provider_entity_id == entity.id, AccessRequest.state == RequestState.pending
    )
    grants = listable(caller, AccessGrant, AccessGrant.account_id, AccessGrant.provider_entity_id).where(
        AccessGrant.provider_entity_id == entity.id, in_status(GrantStatus.active, now_of(session))
    )
    registrations = list_registrations(
        session, caller, state=None, overdue=False, subject_id=None, limit=1, cursor=None
    )
    return Overview(
        resources=_count(session, select(DataResource).where(DataResource.entity_id == entity.id)),
        products=_count(session, select(DataProduct).where(DataProduct.entity_id == entity.id)),
        registrations=registrations.count,
        datasets=_count(session, select(Dataset).where(Dataset.entity_id == entity.id)),
        pending_requests=_count(session, requests),
        active_grants=_count(session, grants),
    )
