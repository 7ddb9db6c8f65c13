"""The entity's datasets as the console shows them (drafts too), one dataset with its versions and files, and the
dataset form read into the catalog's shapes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from auth.caller import Caller
from catalog.datasets.access import visible_dataset
from catalog.datasets.models import Dataset, DatasetState
from catalog.datasets.schemas import DatasetPublic
from catalog.datasets.views import present
from catalog.portal.provider.forms import FormFields
from catalog.portal.provider.views import own_entity
from registry.enums import SubjectStatus
from registry.models import DataResource, Entity
from storage.exceptions import NotFound
from storage.pagination import paginate_by_id

ROWS = 50
LINKABLE = 200
TEXT = (
    "title",
    "title_en",
    "licence",
    "access",
    "temporal_start",
    "temporal_end",
    "spatial",
    "update_frequency",
    "resource_id",
    "landing_page",
    "name",
)
SHOWN = (*TEXT, "description", "keywords")


@dataclass(frozen=True)
class DatasetList:
    """A page of the entity's datasets, newest first, drafts and withdrawn ones included."""

    items: list[DatasetPublic]
    count: int
    next_cursor: str | None


def dataset_list(session: Session, caller: Caller, entity: Entity, cursor: str | None) -> DatasetList:
    """The entity's datasets as the API shows them to their entity."""
    own_entity(caller, entity)
    statement = select(Dataset).where(Dataset.entity_id == entity.id)
    page = paginate_by_id(session, statement, Dataset.id, limit=ROWS, cursor=cursor)
    return DatasetList(present(session, list(page.items), viewer=caller), page.count, page.next_cursor)


@dataclass(frozen=True)
class DatasetDetail:
    """One of the entity's datasets with its versions and files, and what can be done with it now."""

    dataset: DatasetPublic

    @property
    def newest(self) -> Any:
        """The newest version."""
        versions = self.dataset.versions or []
        return next((v for v in versions if v.version == self.dataset.version), None)

    @property
    def may_upload(self) -> bool:
        """Files go into a draft version only."""
        return self.newest is not None and self.newest.state == DatasetState.draft

    @property
    def may_publish(self) -> bool:
        """A draft version, or a withdrawn dataset, can be published."""
        return self.may_upload or self.dataset.state != DatasetState.published

    @property
    def may_open_version(self) -> bool:
        """A new version opens once the newest is published."""
        return self.newest is not None and self.newest.state == DatasetState.published


def own_dataset(session: Session, caller: Caller, entity: Entity, dataset_id: str) -> Dataset:
    """One of the entity's datasets; another entity's, public or not, is not found here."""
    dataset = visible_dataset(session, caller, dataset_id)
    if dataset.entity_id != entity.id:
        raise NotFound("no such dataset")
    return dataset


def dataset_detail(session: Session, caller: Caller, entity: Entity, dataset_id: str) -> DatasetDetail:
    """One of the entity's datasets as GET /api/v1/datasets/{id} shows it to its entity."""
    dataset = own_dataset(session, caller, entity, dataset_id)
    return DatasetDetail(present(session, [dataset], detail=True, viewer=caller)[0])


def linkable_resources(session: Session, entity: Entity) -> list[DataResource]:
    """The entity's registered resources, which a dataset may name as its registry record."""
    return list(
        session.exec(
            select(DataResource)
            .where(DataResource.entity_id == entity.id, DataResource.status == SubjectStatus.registered)
            .order_by(col(DataResource.id).desc())
            .limit(LINKABLE)
        )
    )


def dataset_values(fields: FormFields, *, keep_empty: bool) -> dict[str, Any]:
    """A dataset form as the catalog's fields; empty ones are left out of a new dataset and cleared on an edit."""
    values: dict[str, Any] = fields.picked(TEXT)
    if not keep_empty:
        values = {name: value for name, value in values.items() if value is not None}
    return values | {
        "description": fields.raw("description").strip(),
        "keywords": fields.words("keywords"),
        "themes": fields.chosen("themes"),
    }


def dataset_form(dataset: Dataset | None) -> dict[str, Any]:
    """What the dataset form shows first: the dataset's values, or a new dataset's defaults."""
    if dataset is None:
        return dict.fromkeys(SHOWN, "") | {"access": "unconditional", "themes": []}
    shown: dict[str, Any] = {
        name: "" if getattr(dataset, name) is None else str(getattr(dataset, name)) for name in TEXT
    }
    return shown | {
        "description": dataset.description,
        "keywords": "，".join(dataset.keywords),
        "themes": list(dataset.themes),
    }


def typed_dataset_form(fields: FormFields) -> dict[str, Any]:
    """The dataset form shown again as it was typed."""
    return {name: fields.raw(name) for name in SHOWN} | {"themes": fields.chosen("themes")}
