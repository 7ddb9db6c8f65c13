"""What the entity's data is asked for and given: access requests to decide, grants in their status, and downloads
by month, each read through the exchange's own visibility rule and narrowed to the caller's entity."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import pairwise

from sqlalchemy import func
from sqlmodel import Session, col, select

from auth.caller import Caller
from auth.models import Account
from catalog.datasets.models import Dataset
from catalog.exchange import grants
from catalog.exchange.models import AccessGrant, AccessRequest, DownloadRecord
from catalog.exchange.schemas import GrantPublic
from catalog.exchange.visibility import listable
from catalog.portal.charts import BarChart, bar_chart
from catalog.portal.provider.views import own_entity
from registry.deadlines import CHINA_TIME, china_date
from registry.models import DataProduct, Entity
from storage.db import now_of
from storage.pagination import paginate_by_id

ROWS = 50
MONTHS = 12


def titles(session: Session, dataset_ids: Iterable[str | None], product_ids: Iterable[str | None]) -> dict[str, str]:
    """The titles of the datasets and names of the products some rows are about."""
    datasets = {i for i in dataset_ids if i}
    products = {i for i in product_ids if i}
    found: dict[str, str] = {}
    if datasets:
        found |= dict(session.exec(select(Dataset.id, Dataset.title).where(col(Dataset.id).in_(datasets))).all())
    if products:
        found |= dict(
            session.exec(select(DataProduct.id, DataProduct.name).where(col(DataProduct.id).in_(products))).all()
        )
    return found


@dataclass(frozen=True)
class RequestList:
    """A page of the access requests made to the entity, newest first, with what they ask for."""

    items: list[AccessRequest]
    count: int
    next_cursor: str | None
    titles: dict[str, str]
    applicants: dict[str, str]


def applicants(session: Session, items: Iterable[AccessRequest]) -> dict[str, str]:
    """Who asked, by request id: the applicant's entity when it has one, else its account's name."""
    rows = list(items)
    entity_ids = {r.entity_id for r in rows if r.entity_id}
    account_ids = {r.account_id for r in rows}
    entities = dict(session.exec(select(Entity.id, Entity.name).where(col(Entity.id).in_(entity_ids))).all())
    accounts = dict(session.exec(select(Account.id, Account.name).where(col(Account.id).in_(account_ids))).all())
    return {r.id: entities.get(r.entity_id or "") or accounts.get(r.account_id, r.account_id) for r in rows}


def incoming_requests(session: Session, caller: Caller, entity: Entity, cursor: str | None) -> RequestList:
    """The requests the entity decides on, as GET /api/v1/access-requests lists them to its members."""
    own_entity(caller, entity)
    statement = listable(caller, AccessRequest, AccessRequest.account_id, AccessRequest.provider_entity_id).where(
        AccessRequest.provider_entity_id == entity.id
    )
    page = paginate_by_id(session, statement, AccessRequest.id, limit=ROWS, cursor=cursor)
    items = list(page.items)
    named = titles(session, (r.dataset_id for r in items), (r.product_id for r in items))
    return RequestList(items, page.count, page.next_cursor, named, applicants(session, items))


@dataclass(frozen=True)
class GrantList:
    """A page of the grants the entity gave, newest first, each in its status now."""

    items: list[GrantPublic]
    count: int
    next_cursor: str | None
    titles: dict[str, str]


def given_grants(session: Session, caller: Caller, entity: Entity, cursor: str | None) -> GrantList:
    """The grants the entity gave, as GET /api/v1/grants lists them to its members."""
    own_entity(caller, entity)
    statement = listable(caller, AccessGrant, AccessGrant.account_id, AccessGrant.provider_entity_id).where(
        AccessGrant.provider_entity_id == entity.id
    )
    page = paginate_by_id(session, statement, AccessGrant.id, limit=ROWS, cursor=cursor)
    items = [grants.present(session, grant) for grant in page.items]
    named = titles(session, (g.dataset_id for g in items), (g.product_id for g in items))
    return GrantList(items, page.count, page.next_cursor, named)


def month_starts(today: date, months: int) -> list[date]:
    """The first days of the last `months` months, oldest first, this month last."""
    starts = []
    year, month = today.year, today.month
    for _ in range(months):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def _utc(day: date) -> datetime:
    """The first moment of a China calendar day, as a UTC time."""
    return datetime(day.year, day.month, day.day, tzinfo=CHINA_TIME).astimezone(UTC)


@dataclass(frozen=True)
class DownloadFigures:
    """The entity's completed downloads: in all, and by month (Beijing time, labelled YY-MM) over twelve months."""

    total: int
    by_month: list[tuple[str, int]]
    chart: BarChart


def download_figures(session: Session, caller: Caller, entity: Entity) -> DownloadFigures:
    """Completed downloads of the entity's datasets, counted in the database, in all and per month."""
    own_entity(caller, entity)
    # Completed transfers only: a resumed download sends several ranges but is one download.
    records = listable(caller, DownloadRecord, DownloadRecord.account_id, DownloadRecord.provider_entity_id).where(
        DownloadRecord.provider_entity_id == entity.id, col(DownloadRecord.complete).is_(True)
    )
    counted = records.subquery()
    total = int(session.exec(select(func.count()).select_from(counted)).one())
    starts = month_starts(china_date(now_of(session)), MONTHS)
    edges = [*starts, date(starts[-1].year + starts[-1].month // 12, starts[-1].month % 12 + 1, 1)]
    by_month = []
    for start, end in pairwise(edges):
        in_month = (
            select(func.count()).select_from(counted).where(counted.c.at >= _utc(start), counted.c.at < _utc(end))
        )
        by_month.append((f"{start:%y-%m}", int(session.exec(in_month).one())))
    return DownloadFigures(total, by_month, bar_chart(by_month))
