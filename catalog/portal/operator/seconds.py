"""Access requests a provider approved that wait for an operator's second, with the names a person reads."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from auth.caller import Caller
from auth.models import Account
from catalog.datasets.models import Dataset
from catalog.exchange import requests
from catalog.exchange.models import AccessRequest
from catalog.exchange.schemas import RequestState
from registry.models import DataProduct, Entity

SECONDS_PER_PAGE = 25


@dataclass(frozen=True)
class Waiting:
    """A page of requests waiting for a second, how many there are, and the names of what they refer to."""

    requests: list[AccessRequest]
    count: int
    next_cursor: str | None
    names: dict[str, str]


def _names(session: Session, rows: list[AccessRequest]) -> dict[str, str]:
    """Dataset titles, product, entity and account names by id, for the rows shown."""
    names: dict[str, str] = {}
    datasets = {r.dataset_id for r in rows if r.dataset_id}
    products = {r.product_id for r in rows if r.product_id}
    entities = {r.provider_entity_id for r in rows}
    accounts = {r.account_id for r in rows}
    names.update(session.exec(select(Dataset.id, Dataset.title).where(col(Dataset.id).in_(datasets))).all())
    names.update(session.exec(select(DataProduct.id, DataProduct.name).where(col(DataProduct.id).in_(products))).all())
    names.update(session.exec(select(Entity.id, Entity.name).where(col(Entity.id).in_(entities))).all())
    names.update(session.exec(select(Account.id, Account.name).where(col(Account.id).in_(accounts))).all())
    return names


def awaiting_second(session: Session, caller: Caller, cursor: str | None) -> Waiting:
    """The requests approved by their provider that wait for the staff, newest first."""
    page = requests.list_requests(
        session, caller, state=RequestState.provider_approved.value, limit=SECONDS_PER_PAGE, cursor=cursor
    )
    rows = list(page.items)
    return Waiting(rows, page.count, page.next_cursor, _names(session, rows))
