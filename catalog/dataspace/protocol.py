"""The Dataspace Protocol's catalog over pdr's datasets: which datasets it lists, page by page, and each one alone.

The catalog lists the published conditional datasets that carry at least one offer (the protocol's Dataset must
have a policy); open datasets are downloaded freely and need no contract.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, func, select

from auth.caller import Caller
from catalog.datasets.access import visible_dataset
from catalog.datasets.models import Dataset, DatasetState
from catalog.dataspace.documents import (
    DSPACE_CONTEXT,
    catalog_document,
    dataset_document,
    dataset_id_of,
)
from catalog.dataspace.models import DatasetOffer
from catalog.dataspace.schemas import CatalogRequestMessage
from catalog.dataspace.service import offers_of
from registry.enums import Openness
from registry.models import DataResource
from storage.exceptions import DomainError, FieldProblem, NotFound
from storage.pagination import PageOf, paginate_by_id


def check_request(message: CatalogRequestMessage) -> None:
    """Refuse a message outside the protocol's context, and any filter (pdr supports none: 400, as the binding says)."""
    if DSPACE_CONTEXT not in message.context:
        raise DomainError(
            f"the message's @context must include {DSPACE_CONTEXT}", errors=[FieldProblem("@context", "missing")]
        )
    if message.filter:
        raise DomainError(
            "filters are not supported; send an empty filter or none", errors=[FieldProblem("filter", "")]
        )


def _listed(session: Session, limit: int, cursor: str | None) -> PageOf[Dataset]:
    """Published datasets whose effective access is conditional and that carry an offer, by id."""
    access = func.coalesce(DataResource.open_attribute, Dataset.access)
    offered = select(DatasetOffer.id).where(DatasetOffer.dataset_id == Dataset.id).exists()
    statement = (
        select(Dataset)
        .outerjoin(DataResource, DataResource.id == Dataset.resource_id)  # type: ignore[arg-type]
        .where(Dataset.state == DatasetState.published, access == Openness.conditional, offered)
    )
    return paginate_by_id(session, statement, Dataset.id, limit=limit, cursor=cursor, newest_first=False)


def catalog_page(
    session: Session, base_url: str, message: CatalogRequestMessage, *, limit: int, cursor: str | None
) -> tuple[dict[str, Any], str | None]:
    """One page of the catalog as a Catalog, and the cursor of the next page if there is one."""
    check_request(message)
    page = _listed(session, limit, cursor)
    datasets = list(page.items)
    offers = offers_of(session, [d.id for d in datasets])
    document = catalog_document(base_url, base_url, [(d, offers[d.id]) for d in datasets])
    return document, page.next_cursor


def protocol_dataset(session: Session, caller: Caller, base_url: str, identifier: str) -> dict[str, Any]:
    """One dataset the caller may see, with its offers; one without offers is not in the protocol's catalog."""
    dataset = visible_dataset(session, caller, dataset_id_of(identifier))
    offers = offers_of(session, [dataset.id])[dataset.id]
    if not offers:
        raise NotFound("the dataset carries no offer, so it is not in the data space's catalog")
    return dataset_document(base_url, dataset, offers)
