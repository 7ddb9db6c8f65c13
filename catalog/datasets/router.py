"""HTTP routes of the catalog's native API: search, datasets, versions and distribution links."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from auth.caller import Caller
from auth.dependencies import AnyCaller, Cursor, DbSession, Limit, SignedIn
from catalog.datasets import access, service
from catalog.datasets.models import Dataset
from catalog.datasets.query import search_datasets as run_search
from catalog.datasets.schemas import (
    DatasetCreate,
    DatasetPublic,
    DatasetsPublic,
    DatasetUpdate,
    DistributionCreate,
    DistributionPublic,
    FacetValuePublic,
    StateChange,
)
from catalog.datasets.views import present
from catalog.search.query import SearchQuery
from catalog.web.dependencies import CatalogConfig
from storage.pagination import DEFAULT_LIMIT

router = APIRouter(prefix="/api/v1", tags=["catalog"])
Values = Annotated[list[str] | None, Query(max_length=100)]


def _split(values: list[str] | None) -> list[str]:
    """Repeated parameters and comma-separated lists both work: ``?theme=a&theme=b`` or ``?theme=a,b``."""
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def _detail(session: DbSession, caller: Caller, dataset: object) -> DatasetPublic:
    assert isinstance(dataset, Dataset)
    return present(session, [dataset], detail=True, viewer=caller)[0]


@router.get("/datasets", response_model=DatasetsPublic, response_model_exclude_none=False)
def search_datasets(
    settings: CatalogConfig,
    caller: AnyCaller,
    session: DbSession,
    q: Annotated[str | None, Query(max_length=500)] = None,
    theme: Values = None,
    publisher: Values = None,
    format: Values = None,
    access: Values = None,
    licence: Values = None,
    tag: Values = None,
    year_from: Annotated[int | None, Query(ge=1, le=9999)] = None,
    year_to: Annotated[int | None, Query(ge=1, le=9999)] = None,
    registered: bool | None = None,
    state: Annotated[str, Query(pattern="^(draft|published|withdrawn)$")] = "published",
    sort: Annotated[str | None, Query(pattern="^(relevance|newest|title)$")] = None,
    facets: Values = None,
    facet_limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> DatasetsPublic:
    """Search datasets in Chinese, English or both, with filters, facet counts and cursor pages."""
    query = SearchQuery(
        q=q,
        themes=_split(theme),
        publishers=_split(publisher),
        formats=_split(format),
        access=_split(access),
        licences=_split(licence),
        tags=_split(tag),
        year_from=year_from,
        year_to=year_to,
        registered=registered,
        state=state,
        sort=sort,
        facets=_split(facets),
        facet_limit=facet_limit or settings.facet_limit,
        limit=limit,
        cursor=cursor,
    )
    page = run_search(session, caller, query)
    return DatasetsPublic(
        items=page.items,
        count=page.count,
        next_cursor=page.next_cursor,
        facets={
            name: [FacetValuePublic(value=v.value, count=v.count, label=v.label) for v in values]
            for name, values in page.facets.items()
        },
    )


@router.post("/datasets", response_model=DatasetPublic, status_code=status.HTTP_201_CREATED)
def create_dataset(body: DatasetCreate, caller: SignedIn, session: DbSession) -> DatasetPublic:
    """A new draft dataset for the caller's entity (staff name the entity)."""
    return _detail(session, caller, service.create_dataset(session, caller, body))


@router.get("/datasets/{dataset_id}", response_model=DatasetPublic)
def read_dataset(dataset_id: str, caller: AnyCaller, session: DbSession) -> DatasetPublic:
    """A dataset by id or name, with its versions, files and registry record."""
    return _detail(session, caller, access.visible_dataset(session, caller, dataset_id))


@router.patch("/datasets/{dataset_id}", response_model=DatasetPublic)
def update_dataset(dataset_id: str, body: DatasetUpdate, caller: SignedIn, session: DbSession) -> DatasetPublic:
    """Change a dataset's catalog metadata."""
    return _detail(session, caller, service.update_dataset(session, caller, dataset_id, body))


@router.post("/datasets/{dataset_id}/publish", response_model=DatasetPublic)
def publish_dataset(dataset_id: str, caller: SignedIn, session: DbSession) -> DatasetPublic:
    """Publish the newest version."""
    return _detail(session, caller, service.publish_dataset(session, caller, dataset_id))


@router.post("/datasets/{dataset_id}/withdraw", response_model=DatasetPublic)
def withdraw_dataset(
    dataset_id: str, caller: SignedIn, session: DbSession, body: StateChange | None = None
) -> DatasetPublic:
    """Withdraw a dataset from the public catalog."""
    return _detail(
        session, caller, service.withdraw_dataset(session, caller, dataset_id, body.reason if body else None)
    )


@router.post("/datasets/{dataset_id}/versions", response_model=DatasetPublic, status_code=status.HTTP_201_CREATED)
def new_version(
    dataset_id: str, caller: SignedIn, session: DbSession, body: StateChange | None = None
) -> DatasetPublic:
    """Open a new draft version; published versions stay listed and unchanged."""
    return _detail(session, caller, service.new_version(session, caller, dataset_id, body.reason if body else None))


@router.post(
    "/datasets/{dataset_id}/distributions", response_model=DistributionPublic, status_code=status.HTTP_201_CREATED
)
def add_distribution(
    dataset_id: str, body: DistributionCreate, caller: SignedIn, session: DbSession
) -> DistributionPublic:
    """Add a distribution link to the newest version."""
    return DistributionPublic.model_validate(service.add_distribution(session, caller, dataset_id, body))
