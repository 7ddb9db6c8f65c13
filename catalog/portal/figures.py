"""The registry in figures, and the datasets downloaded most: counts the home page shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from catalog.datasets.access import is_public
from catalog.datasets.models import Dataset
from catalog.exchange.models import DownloadRecord
from registry.deadlines import CHINA_TIME, china_date
from registry.enums import EntityStatus, SubjectStatus
from registry.models import Certificate, DataProduct, DataResource, Entity
from storage.db import now_of

# How many of the most-downloaded datasets are read before those nobody may see are left out.
_CANDIDATES = 50


@dataclass(frozen=True)
class Figures:
    """What the registry holds now."""

    verified_entities: int
    registered_resources: int
    registered_products: int
    certificates_in_force: int
    downloads_this_month: int


def _count(session: Session, statement: object) -> int:
    return int(session.exec(statement).one())  # type: ignore[call-overload]


def month_start(now: datetime) -> datetime:
    """The first moment of the current month in Beijing time, as a UTC time."""
    today = china_date(now)
    return datetime(today.year, today.month, 1, tzinfo=CHINA_TIME).astimezone(UTC)


def registry_figures(session: Session) -> Figures:
    """Verified entities, registered resources and products, certificates in force, downloads this month."""
    now = now_of(session)
    count = func.count()
    return Figures(
        verified_entities=_count(session, select(count).where(Entity.status == EntityStatus.verified)),
        registered_resources=_count(session, select(count).where(DataResource.status == SubjectStatus.registered)),
        registered_products=_count(session, select(count).where(DataProduct.status == SubjectStatus.registered)),
        certificates_in_force=_count(
            session,
            select(count).where(
                Certificate.status == "valid", col(Certificate.valid_from) <= now, col(Certificate.valid_until) > now
            ),
        ),
        # Completed transfers only: a resumed download sends several ranges but is one download.
        downloads_this_month=_count(
            session,
            select(count).where(col(DownloadRecord.at) >= month_start(now), col(DownloadRecord.complete).is_(True)),
        ),
    )


def most_downloaded(session: Session, limit: int) -> list[Dataset]:
    """The public datasets with the most completed downloads, most first."""
    downloads = func.count(col(DownloadRecord.id))
    rows = session.exec(
        select(DownloadRecord.dataset_id, downloads)
        .where(col(DownloadRecord.complete).is_(True))
        .group_by(col(DownloadRecord.dataset_id))
        .order_by(downloads.desc(), col(DownloadRecord.dataset_id))
        .limit(_CANDIDATES)
    ).all()
    found: list[Dataset] = []
    for dataset_id, _ in rows:
        dataset = session.get(Dataset, dataset_id)
        if dataset is not None and is_public(session, dataset):
            found.append(dataset)
        if len(found) == limit:
            break
    return found
