"""The public pages' data, each read through the same use cases as the API."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session

from auth.caller import Caller
from catalog.datasets.access import visible_dataset
from catalog.datasets.models import DatasetState
from catalog.datasets.query import search_datasets
from catalog.datasets.schemas import DatasetPublic, VersionFile, VersionPublic
from catalog.datasets.views import present
from catalog.files.service import files_of
from catalog.portal.figures import Figures, most_downloaded, registry_figures
from catalog.search.query import SearchQuery
from registry import log
from registry.access import may_read_private
from registry.config import RegistrySettings
from registry.entities import visible_entity
from registry.enums import Openness, Theme
from registry.models import LogCheckpoint
from registry.notices import notice_board
from registry.schemas import EntityPublic, NoticePublic
from storage.pages import Page

HOME_LIST = 6
ENTITY_DATASETS = 50
NOTICES_PER_PAGE = 20


@dataclass(frozen=True)
class Home:
    """The home page: themes with their counts, newest and most-downloaded datasets, the registry in figures."""

    themes: list[tuple[str, int]]
    published: int
    newest: list[DatasetPublic]
    popular: list[DatasetPublic]
    figures: Figures


def home(session: Session, caller: Caller) -> Home:
    """What the home page shows to this caller."""
    by_theme = search_datasets(
        session, caller, SearchQuery(facets=("theme",), facet_limit=len(Theme), limit=1, sort="newest")
    )
    counts = {value.value: value.count for value in by_theme.facets.get("theme", [])}
    newest = search_datasets(session, caller, SearchQuery(sort="newest", limit=HOME_LIST))
    return Home(
        themes=[(theme.value, counts.get(theme.value, 0)) for theme in Theme],
        published=by_theme.count,
        newest=newest.items,
        popular=present(session, most_downloaded(session, HOME_LIST), viewer=caller),
        figures=registry_figures(session),
    )


@dataclass(frozen=True)
class DatasetPage:
    """A dataset with the versions and files the caller may see, and whether downloads take a grant."""

    dataset: DatasetPublic
    versions: list[VersionPublic]
    conditional: bool
    not_open: bool


def _visible_versions(
    versions: Sequence[VersionPublic], files: Sequence[VersionFile], private: bool
) -> list[VersionPublic]:
    """Newest first; others than the entity's people and the staff see published versions only."""
    by_version: dict[int, list[VersionFile]] = {}
    for file in files:
        by_version.setdefault(file.version, []).append(file)
    shown = [v for v in versions if private or v.state == DatasetState.published]
    return [v.model_copy(update={"files": by_version.get(v.version, [])}) for v in reversed(shown)]


def dataset_page(session: Session, caller: Caller, dataset_id: str) -> DatasetPage:
    """A dataset the caller may see (404 otherwise), as the API shows it, with the files the caller may see."""
    dataset = visible_dataset(session, caller, dataset_id)
    view = present(session, [dataset], detail=True, viewer=caller)[0]
    files = [VersionFile.model_validate(f) for f in files_of(session, caller, dataset.id)]
    private = may_read_private(caller, dataset.entity_id)
    return DatasetPage(
        dataset=view,
        versions=_visible_versions(view.versions or [], files, private),
        conditional=view.access == Openness.conditional,
        not_open=view.access == Openness.not_open,
    )


@dataclass(frozen=True)
class EntityPage:
    """A publisher's public record and its datasets."""

    entity: EntityPublic
    datasets: list[DatasetPublic]
    count: int


def entity_page(session: Session, caller: Caller, entity_id: str) -> EntityPage:
    """A verified entity (404 otherwise) with the datasets the caller may see, newest first."""
    entity, _ = visible_entity(session, caller, entity_id)
    found = search_datasets(session, caller, SearchQuery(publishers=(entity.id,), sort="newest", limit=ENTITY_DATASETS))
    # The public fields only, whoever asks: the page may be cached or shown on a shared screen.
    return EntityPage(entity=EntityPublic.model_validate(entity), datasets=found.items, count=found.count)


def notices(session: Session, settings: RegistrySettings, cursor: str | None) -> Page[NoticePublic]:
    """One page of the notice board."""
    return notice_board(session, settings, limit=NOTICES_PER_PAGE, cursor=cursor)


@dataclass(frozen=True)
class LogPage:
    """The latest signed checkpoint of the transparency log, if there is one."""

    checkpoint: LogCheckpoint | None
    root_base64: str


def log_page(session: Session) -> LogPage:
    """The log's latest checkpoint."""
    latest = log.latest_checkpoint(session)
    root = base64.b64encode(latest.root_hash).decode() if latest is not None else ""
    return LogPage(checkpoint=latest, root_base64=root)
